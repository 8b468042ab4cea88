@control
Feature: Who may spend, and when
  A purchase passes the portal's gates in a fixed order: the login must carry
  billing:manage, its spending must not have been revoked, the person's role must be able
  to change the plan, the org must allow terminal billing, a card must be saved, and the
  charge must fit in the month's cap. Each gate refuses with its own code and a link into
  the portal where the cause can be fixed, and a refused purchase charges nothing.

  Background:
    Given an owner of an org with a saved Visa card
    And the org's balance is $142.50

  Rule: Each gate refuses with its own code, a way out, and no charge

    Scenario Outline: <circumstance>
      Given <circumstance>
      When she buys $25
      Then the purchase is refused with "<error>"
      And she is pointed to the portal at "<link>"
      And nothing was charged
      And her balance is $142.50

      Examples:
        | circumstance                                                 | error                   | link                |
        | her login does not include terminal billing                  | insufficient_scope      | /billing            |
        | an admin has revoked her terminal spending                   | remote_spending_revoked | /billing            |
        | she has revoked her own terminal spending                    | remote_spending_revoked | /billing            |
        | her role has been changed to member                          | role_required           | /billing            |
        | her role has been changed to security admin                  | role_required           | /billing            |
        | an admin has turned off "Allow terminal billing" for the org | cli_billing_disabled    | /billing            |
        | the org has no saved card                                    | no_payment_method       | /billing?topup=open |
        | the org's monthly cap is $20                                 | monthly_cap_exceeded    | /billing            |

  Rule: A refusal says how to recover

    Scenario Outline: Spending revoked by <actor> says who revoked it
      Given <circumstance>
      When she buys $25
      Then the purchase is refused with "remote_spending_revoked"
      And the refusal says actor is "<actor>"
      And the refusal says recovery is "reconnect"

      Examples:
        | circumstance                               | actor |
        | an admin has revoked her terminal spending | admin |
        | she has revoked her own terminal spending  | self  |

    Scenario: The org's kill-switch says which toggle to turn back on
      Given an admin has turned off "Allow terminal billing" for the org
      When she buys $25
      Then the purchase is refused with "cli_billing_disabled"
      And the refusal says code is "remote_spending_disabled"
      And the refusal says recovery is "enable_account_toggle"

  Rule: When several gates apply, the first in the contract's order answers

    Scenario Outline: <first>, and <second>
      Given <first>
      And <second>
      When she buys $25
      Then the purchase is refused with "<error>"

      Examples:
        | first                                                        | second                                                       | error                   |
        | her login does not include terminal billing                  | an admin has revoked her terminal spending                   | insufficient_scope      |
        | an admin has revoked her terminal spending                   | her role has been changed to member                          | remote_spending_revoked |
        | her role has been changed to member                          | an admin has turned off "Allow terminal billing" for the org | role_required           |
        | an admin has turned off "Allow terminal billing" for the org | the org has no saved card                                    | cli_billing_disabled    |
        | the org has no saved card                                    | the org's monthly cap is $20                                 | no_payment_method       |

  Rule: The monthly cap leaves room for what remains this month, and no more

    Scenario: A purchase over the remaining headroom is refused with what remains
      Given the org's monthly cap is $200
      And she has bought $150
      When she buys $60
      Then the purchase is refused with "monthly_cap_exceeded"
      And she is told $50 remains this month, under a cap the org set itself
      And nothing was charged
      When she buys $50
      Then the purchase settles for $50

    Scenario: A charge still pending counts against the cap
      Given the org's monthly cap is $200
      And the org's next charge will stay pending forever
      And she has submitted a purchase of $150 without waiting for it
      When she buys $60
      Then the purchase is refused with "monthly_cap_exceeded"
      And she is told $50 remains this month, under a cap the org set itself

    Scenario: A failed charge does not count against the cap
      Given the org's monthly cap is $200
      And the saved card is a Visa ending 0002
      And she has tried to buy $150 and the card was declined
      And the saved card is a Visa ending 4242
      When she buys $200
      Then the purchase settles for $200

    Scenario: The default ceiling is $1,000 a month
      Given she has bought $990
      When she buys $25
      Then the purchase is refused with "monthly_cap_exceeded"
      And she is told $10 remains this month, under the default ceiling

  Rule: A purchase already in flight stays observable after the kill-switch is turned off

    Scenario: An admin turns terminal billing off while her charge settles
      When she submits a purchase of $25 without waiting for it
      And an admin turns off "Allow terminal billing" for the org
      And the portal clock moves on 3 seconds
      Then the charge reads as settled for $25
      And her balance is $167.50
