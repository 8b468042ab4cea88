@control
Feature: A preview says what a plan change would do, before anything happens
  Before she changes plan, her terminal asks the portal what the change would do. The price
  decides. A dearer plan is charged now, for the part of the cycle that is left (the cycle
  keeps its dates): the price difference times the share of the 30 days left, rounded half
  up to the cent. A cheaper or equally priced plan is scheduled for the end of the cycle.
  Her own plan changes nothing. A change the portal would refuse is "blocked", with a reason
  written for her to read. A preview needs terminal billing, but moves no money and changes
  nothing.

  Pat is on Plus ($20 a month, $22 of usage included), 10 days into her cycle.

  Background:
    Given Pat is logged in with terminal billing

  Rule: A dearer plan is charged now, for the part of the cycle left

    Scenario Outline: With <left> of her cycle left, Plus to <plan> costs <cents> cents now
      Given her cycle has <left> left
      When she previews a move to <plan>
      Then the preview charges <cents> cents now
      And the preview names Plus and <plan>
      And the monthly usage included changes by <delta>
      And she is still on Plus
      And nothing was charged

      Examples:
        | left        | plan | cents | delta |
        | 20 days     | Pro  | 1333  | $23   |
        | 20 days     | Max  | 5333  | $93   |
        | 5 days      | Pro  | 333   | $23   |
        | 1 day       | Max  | 267   | $93   |
        | 648 seconds | Pro  | 1     | $23   |

  Rule: A cheaper or equally priced plan waits for the end of the cycle

    Scenario: Plus to Basic is scheduled
      When she previews a move to Basic
      Then the preview schedules the move for the end of her cycle
      And the monthly usage included changes by -$12
      And nothing is waiting for the end of her cycle
      And nothing was charged

  Rule: Her own plan is no change

    Scenario: Plus to Plus
      When she previews a move to Plus
      Then the preview changes nothing

  Rule: A plan nobody can move to is blocked, saying why

    Scenario Outline: <plan> is blocked
      When she previews a move to <plan>
      Then the preview is blocked, saying "<reason>"

      Examples:
        | plan        | reason                                     |
        | Free        | To move to Free, cancel your subscription. |
        | Plus (2025) | no longer offered                          |

  Rule: An upgrade the portal would refuse is blocked, saying why

    Scenario Outline: Pro is blocked when <situation>
      Given <situation>
      When she previews a move to Pro
      Then the preview is blocked, saying "<reason>"
      And nothing was charged

      Examples:
        | situation                                                          | reason                               |
        | her card has been removed                                          | No saved card                        |
        | her monthly cap is $10                                             | monthly spending cap: 10 USD remains |
        | she has tried to upgrade to Pro five times today, declined each time | Daily plan-change limit reached    |

  Rule: A plan the portal does not know cannot be previewed

    Scenario: She previews a plan that does not exist
      When she previews a move to the plan "nous-chat-plan-999"
      Then the preview is refused with "preview_rejected"
      And she is pointed to the portal at "/billing"

    Scenario: Without a plan there is nothing to preview
      Given she has no plan
      When she previews a move to Pro
      Then the preview is refused with "preview_rejected"

  Rule: While the payment processor is down, an upgrade can be previewed but not quoted

    Scenario: Stripe is down
      Given the payment processor is down
      When she previews a move to Pro
      Then the preview charges now, without a quote
