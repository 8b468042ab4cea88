@control
Feature: An upgrade is charged now, once, and takes effect at once
  A dearer plan is the one plan change that moves money. Her terminal previews it, shows
  her the prorated amount, and only once she confirms does it send the upgrade, with a
  fresh idempotency key. The portal charges the card on her subscription there and then:
  a card that pays moves her to the new plan at once, adds the new plan's usage for the
  rest of the cycle, and shows on the very next read; a card that cannot pay leaves her
  plan as it was and points her to the portal to finish. The key makes a resent upgrade
  safe: the portal answers it again instead of charging again. Five card attempts a day,
  no more; and while the payment processor is down, nothing is charged.

  Pat is on Plus ($20 a month), 10 days into her 30-day cycle, with $12.50 of grant and
  $3 of rollover left, a Visa ending 4242, and $5 of purchased balance.

  Background:
    Given Pat is logged in with terminal billing

  Rule: A card that pays moves her at once

    Scenario: Plus to Pro with 20 of 30 days left
      When she upgrades to Pro
      Then she was quoted 1333 cents and confirmed
      And she is upgraded to Pro, charged $13.33
      And her terminal saw her on Pro with $30.83 left this cycle on its first read after the upgrade
      And her terminal sent one upgrade, with a fresh idempotency key
      And the org was charged exactly once: a settled upgrade charge of $13.33
      And her purchased balance is still $5
      And her cycle ends 20 days from now

    Scenario: An upgrade clears a scheduled downgrade
      Given she has scheduled a move to Basic
      When she upgrades to Max
      Then she is upgraded to Max, charged $53.33
      And nothing is waiting for the end of her cycle

    Scenario: She does not confirm the quote
      Given she will not confirm the quote
      When she upgrades to Pro
      Then the upgrade was not sent
      And she is still on Plus
      And nothing was charged

  Rule: Only a dearer plan is offered as an upgrade

    Scenario Outline: An upgrade to <plan> is not offered
      When she upgrades to <plan>
      Then she is not offered the upgrade, because the preview says "<effect>"
      And the upgrade was not sent
      And she is still on Plus

      Examples:
        | plan  | effect    |
        | Basic | scheduled |
        | Plus  | no_op     |
        | Free  | blocked   |

  Rule: One idempotency key, one upgrade

    Scenario: The answer is lost, and she sends the same upgrade again with the same key
      Given the network will lose the portal's answer to her next upgrade
      When she upgrades to Pro with upgrade key "pro-for-pat"
      Then she is told her card may or may not have been charged
      When she sends the upgrade to Pro again with upgrade key "pro-for-pat"
      Then the portal answered it as a replay of the lost answer
      And the org was charged exactly once: a settled upgrade charge of $13.33
      And she is still on Pro

    Scenario: The same key for another plan is refused
      Given she has upgraded to Pro with upgrade key "pat-upgrade"
      When she sends the upgrade to Max again with upgrade key "pat-upgrade"
      Then the upgrade is refused with "idempotency_conflict"
      And she is still on Pro

  Rule: A card that cannot pay leaves the plan as it was

    Scenario Outline: The Visa ending <last4> answers <status>
      Given her saved card is a Visa ending <last4>
      When she upgrades to Pro
      Then the upgrade ends "<status>" because "<reason>"
      And she is pointed to finish on the portal at "/manage-subscription?org_id=org_pat"
      And she is still on Plus
      And nothing was charged

      Examples:
        | last4 | status          | reason                  |
        | 3184  | requires_action | authentication_required |
        | 0002  | payment_failed  | card_declined           |
        | 0069  | payment_failed  | payment_method_expired  |
        | 0119  | payment_failed  | processing_error        |

    Scenario: After a card the bank wanted to verify, a new attempt with a good card goes through
      Given her saved card is a Visa ending 3184
      And she has tried to upgrade to Pro once
      And her saved card is a Visa ending 4242
      When she upgrades to Pro
      Then she is upgraded to Pro, charged $13.33

  Rule: Five card attempts a day, and the next day she may try again

    Scenario: Her fifth attempt is made elsewhere while she reads the quote
      Given she has tried to upgrade to Pro four times today, declined each time
      And while she reads the quote, her other terminal tries the upgrade to Pro once more
      When she upgrades to Pro
      Then the upgrade is refused with "upgrade_cap_exceeded"
      And Retry-After is the time until the next midnight UTC
      And nothing was charged
      When she waits out the Retry-After
      And her saved card is a Visa ending 4242
      And she upgrades to Pro
      Then she is upgraded to Pro

  Rule: While the payment processor is down, nothing is charged

    Scenario: Stripe is down, then back
      Given the payment processor is down
      When she upgrades to Pro
      Then she was quoted no amount and confirmed
      And the upgrade is refused with "stripe_unavailable"
      And Retry-After is 30 seconds
      And nothing was charged
      And she is still on Plus
      When the payment processor is back
      And she upgrades to Pro
      Then she is upgraded to Pro, charged $13.33

  Rule: A login without terminal billing steps up first

    Scenario: She approves terminal billing in her browser, and the upgrade goes on
      Given her login does not include terminal billing
      And she will approve the next login in her browser with "Allow terminal billing" ticked
      When she upgrades to Pro
      Then she is upgraded to Pro, charged $13.33
      And her login now includes terminal billing
      And her terminal sent one upgrade, with a fresh idempotency key

    Scenario: She leaves "Allow terminal billing" unticked
      Given her login does not include terminal billing
      And she will approve the next login in her browser leaving "Allow terminal billing" unticked
      When she upgrades to Pro
      Then she is told terminal billing was not granted
      And the upgrade was not sent
      And nothing was charged
