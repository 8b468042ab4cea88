@control
Feature: The cycle renews on the portal clock
  A cycle lasts 30 days of portal time, and the plan renews the instant it ends. A scheduled
  move takes effect. What is left of the month's grant rolls over with the rollover she
  already had, up to one month of the new plan's usage. The grant refreshes, and any debt
  on it (usage billed beyond what was left) is paid from the new grant first. A scheduled
  cancellation ends the plan instead: its grant and rollover go, a debt moves to her
  purchased balance, and what she bought stays hers. The renewal charges nothing to the
  terminal. If the clock passes several ends at once, each renews in turn.

  Pat is on Plus ($22 of usage a month), 10 days into her cycle, with $12.50 of grant, $3 of
  rollover and $5 of purchased balance.

  Background:
    Given Pat is logged in with terminal billing

  Rule: Nothing changes before the cycle ends

    Scenario: One second before the end
      Given she has scheduled a move to Basic
      When the portal clock moves to one second before the end of her cycle
      Then she is on Plus with $12.50 of grant and $3 of rollover
      And her plan shows a move to Basic at the end of her cycle

  Rule: At the end the grant rolls over, up to a month's worth, and refreshes

    Scenario Outline: Plus renews with $<grant> of grant and $<rollover> of rollover left
      Given her plan has $<grant> of grant and $<rollover> of rollover left this cycle
      When the portal clock moves to the end of her cycle
      Then she is on Plus with $<new grant> of grant and $<new rollover> of rollover
      And her next cycle ends 30 days after the last one
      And nothing was charged

      Examples:
        | grant | rollover | new grant | new rollover |
        | 12.50 | 3        | 22        | 15.50        |
        | 20    | 10       | 22        | 22           |
        | 0     | 0        | 22        | 0            |

    Scenario: A debt on the grant is paid first from the new grant
      Given her grant is $2 in debt and she has $3 of rollover
      When the portal clock moves to the end of her cycle
      Then she is on Plus with $20 of grant and $3 of rollover

  Rule: A scheduled move takes effect at the end of the cycle

    Scenario: Plus to Basic, with more left than a month of Basic
      Given she has scheduled a move to Basic
      When the portal clock moves to the end of her cycle
      Then she is on Basic with $10 of grant and $10 of rollover
      And nothing is waiting for the end of her cycle
      And her next cycle ends 30 days after the last one
      And nothing was charged

  Rule: A scheduled cancellation ends the plan, and what she bought stays

    Scenario: She cancelled
      Given she has cancelled her plan
      When the portal clock moves to the end of her cycle
      Then she has no plan
      And her purchased balance is still $5
      And nothing was charged

    Scenario: She cancelled with a debt on her grant
      Given her grant is $2 in debt and she has $3 of rollover
      And she has cancelled her plan
      When the portal clock moves to the end of her cycle
      Then she has no plan
      And her purchased balance is $3

  Rule: Several ends in one move renew one after another

    Scenario Outline: <ends> ends pass at once, <scheduled>
      Given <scheduled>
      When the portal clock moves past <ends> ends of her cycle
      Then she is on <plan> with $<grant> of grant and $<rollover> of rollover
      And her next cycle ends 30 days after the last one
      And nothing was charged

      Examples:
        | ends | scheduled                           | plan  | grant | rollover |
        | 2    | she has made no change              | Plus  | 22    | 22       |
        | 3    | she has scheduled a move to Basic   | Basic | 10    | 10       |

    Scenario: Two ends pass with a cancellation scheduled
      Given she has cancelled her plan
      When the portal clock moves past 2 ends of her cycle
      Then she has no plan
      And her purchased balance is still $5
