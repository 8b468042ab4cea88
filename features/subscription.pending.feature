@control
Feature: A downgrade or a cancellation waits for the end of the cycle, and can be taken back
  Moving to a cheaper plan, or to one of the same price, costs nothing now: her terminal
  schedules it for the end of the cycle, and she keeps her plan and what is left of it until
  then. Cancelling works the same way: the plan runs to the end of the cycle and does not
  renew. A plan holds one scheduled change at a time, so a new one replaces the last. Until
  the cycle ends she can take it back. Dearer plans are upgrades, charged now, never
  scheduled; Free is reached by cancelling.

  Background:
    Given Pat is logged in with terminal billing

  Rule: A cheaper plan is scheduled, and she keeps hers until then

    Scenario: She schedules a move to Basic
      When she schedules a move to Basic
      Then she is told she moves to Basic at the end of her cycle and keeps Plus until then
      And her plan shows a move to Basic at the end of her cycle
      And she is on Plus with $15.50 left this cycle
      And nothing was charged

    Scenario: She takes the move back
      Given she has scheduled a move to Basic
      When she takes back the scheduled change
      Then she is told Plus renews at the end of her cycle
      And nothing is waiting for the end of her cycle

  Rule: A cancellation ends the plan at the end of the cycle, until she takes it back

    Scenario: She cancels
      When she cancels her plan
      Then she is told Plus ends at the end of her cycle and will not renew
      And her plan shows it ends at the end of her cycle
      And she is on Plus with $15.50 left this cycle
      And nothing was charged

    Scenario: She cancels twice
      Given she has cancelled her plan
      When she cancels her plan
      Then she is told Plus ends at the end of her cycle and will not renew
      And her plan shows it ends at the end of her cycle

    Scenario: She resumes
      Given she has cancelled her plan
      When she takes back the scheduled change
      Then she is told Plus renews at the end of her cycle
      And nothing is waiting for the end of her cycle

    Scenario: With nothing scheduled, taking it back changes nothing
      When she takes back the scheduled change
      Then she is told Plus renews at the end of her cycle
      And nothing is waiting for the end of her cycle

  Rule: A new scheduled change replaces the last

    Scenario: A cancellation replaces a scheduled move
      Given she has scheduled a move to Basic
      When she cancels her plan
      Then her plan shows it ends at the end of her cycle

    Scenario: A move replaces a cancellation
      Given she has cancelled her plan
      When she schedules a move to Basic
      Then her plan shows a move to Basic at the end of her cycle

  Rule: Only a cheaper or same-price plan on sale can be scheduled

    Scenario Outline: A move to <plan> is refused
      When she schedules a move to <plan>
      Then the change is refused with "subscription_mutation_rejected"
      And she is pointed to the portal at "/billing"
      And nothing is waiting for the end of her cycle

      Examples:
        | plan        |
        | Pro         |
        | Max         |
        | Plus        |
        | Free        |
        | Plus (2025) |

    Scenario: A plan the portal does not know
      When she schedules a move to the plan "nous-chat-plan-999"
      Then the change is refused with "subscription_mutation_rejected"

  Rule: Without a plan there is nothing to schedule

    Scenario Outline: The owner of a team tries to <change>
      Given the owner is logged in with terminal billing
      When she <change>
      Then the change is refused with "subscription_mutation_rejected"

      Examples:
        | change                        |
        | cancels her plan              |
        | schedules a move to Basic     |
        | takes back the scheduled change |

  Rule: While the payment processor is down, nothing can be scheduled or taken back

    Scenario Outline: She <change> while Stripe is down
      Given she has scheduled a move to Basic
      And the payment processor is down
      When she <change>
      Then the change is refused with "stripe_unavailable"
      And Retry-After is 30 seconds
      And her plan shows a move to Basic at the end of her cycle

      Examples:
        | change                          |
        | cancels her plan                |
        | schedules a move to Basic       |
        | takes back the scheduled change |
