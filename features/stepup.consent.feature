@control
Feature: Step up to terminal billing in the middle of a purchase
  A terminal usually logs in for inference only. When she buys, the portal refuses with
  403 insufficient_scope; the terminal then starts a new device login that also asks for
  billing:manage, and holds the purchase, idempotency key and all, until she decides in
  her browser. The portal grants billing:manage only if the approver's role can change the
  plan (owner, admin, finance admin) AND they tick "Allow terminal billing". Otherwise it
  silently downscopes: the new login simply lacks the scope, the token's `scope` says so,
  and the terminal must notice and charge nothing.

  Background:
    Given an org with a saved Visa card
    And the org's balance is $142.50

  Rule: A billing-capable approver who ticks the box completes the held purchase

    Scenario Outline: <person> approves with the box ticked
      Given <person> is logged in without terminal billing
      And she will approve the next login in her browser with "Allow terminal billing" ticked
      When she buys $25
      Then the purchase settles for $25
      And her login now includes terminal billing
      And her terminal sent the purchase twice with the same idempotency key
      And her balance is $167.50
      And the org has exactly one settled charge of $25

      Examples:
        | person          |
        | the owner       |
        | a finance admin |

    Scenario: She takes half a minute to find the approval page
      Given the owner is logged in without terminal billing
      And she will approve the next login in her browser 30 seconds later, with "Allow terminal billing" ticked
      When she buys $25
      Then the purchase settles for $25
      And her terminal asked every second until the login was approved, and was never told to slow down
      And her terminal sent the purchase twice with the same idempotency key

  Rule: Anyone else is silently downscoped, and nothing is charged

    Scenario Outline: <person> approves <how>
      Given <person> is logged in without terminal billing
      And she will approve the next login in her browser <how>
      When she buys $25
      Then she is told terminal billing was not granted
      And her login holds only "inference:invoke tool:invoke"
      And nothing was charged

      Examples:
        | person           | how                                         |
        | the owner        | leaving "Allow terminal billing" unticked   |
        | a member         | with "Allow terminal billing" ticked        |
        | a security admin | with "Allow terminal billing" ticked        |

  Rule: A login that is not approved ends the purchase, and her old login stays

    Scenario: She denies the login
      Given the owner is logged in without terminal billing
      And she will deny the next login in her browser
      When she buys $25
      Then the purchase is refused with "access_denied"
      And she is still logged in without terminal billing
      And nothing was charged

    Scenario: She never answers and the login code expires
      Given the owner is logged in without terminal billing
      And she will leave the next login unanswered for 10 minutes
      When she buys $25
      Then the portal answered her terminal's login poll with "expired_token"
      And the purchase is refused with "expired_token"
      And she is still logged in without terminal billing
      And nothing was charged

  Rule: Nobody at the terminal to approve means no step-up

    Scenario: A terminal without a person keeps the refusal
      Given the owner is logged in without terminal billing
      When she buys $25
      Then the purchase is refused with "insufficient_scope"
      And she is pointed to the portal at "/billing"
      And nothing was charged
