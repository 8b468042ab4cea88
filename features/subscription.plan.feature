@control
Feature: Her plan, what is left of it, and the plans on offer
  A personal org can hold a plan: one tier of the portal's catalogue and a cycle of 30 days.
  Anyone logged in may read it, terminal billing or not: the tier, what is left to spend
  this cycle (the month's grant plus what rolled over from before), when the cycle ends,
  any change waiting for that end, and the plans she could move to, cheapest first. A team
  has no plan: it runs on the balance its members buy. A plan the portal no longer sells
  stays listed to an org still on it, and to nobody else.

  Rule: A personal org reads its plan and the catalogue

    Scenario: Pat reads her plan
      Given Pat is logged in without terminal billing
      When she reads her plan
      Then she is on Plus with $15.50 left this cycle
      And her cycle ends 20 days from now
      And nothing is waiting for the end of her cycle
      And the plans on offer are Free at $0, Basic at $10, Plus at $20, Pro at $40 and Max at $100 a month
      And Plus is marked as her current plan

  Rule: A team runs on a shared balance, not on a plan

    Scenario Outline: <person> reads the plan of a team
      Given <person> is logged in without terminal billing
      When she reads her plan
      Then she is told her org is a team, with no plan
      And no plans are on offer

      Examples:
        | person                   |
        | the owner                |
        | a member                 |
        | the owner of another org |

  Rule: A plan no longer sold is listed only to an org still on it

    Scenario: Pat is still on Plus (2025)
      Given Pat is logged in without terminal billing
      And her plan is Plus (2025)
      When she reads her plan
      Then she is on Plus (2025) with $15.50 left this cycle
      And the plans on offer are Free at $0, Basic at $10, Plus (2025) at $15, Plus at $20, Pro at $40 and Max at $100 a month
      And Plus (2025) is marked as her current plan

  Rule: Without a plan, a personal org is on Free

    Scenario: Pat's plan has ended
      Given Pat is logged in without terminal billing
      And she has no plan
      When she reads her plan
      Then she has no plan
      And the plans on offer are Free at $0, Basic at $10, Plus at $20, Pro at $40 and Max at $100 a month
      And Free is marked as her current plan
      And she is pointed to the portal to start a subscription
