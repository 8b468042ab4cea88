@control
Feature: What each role sees of the org's billing
  As someone at a terminal of an org
  I want to see the org's balance whatever my role
  So that I know whether my agents can run, while only the people who can spend see the card

  Anyone with a login reads the billing state, no scope needed. The balance, the presets and
  the bounds are for everyone; the saved card, the monthly cap and auto-reload only for the
  roles that may change the plan: owners, admins and finance admins.

  Rule: Billing roles see the card, the monthly cap and auto-reload

    Scenario Outline: <person> opens the billing state
      Given <person> is logged in without terminal billing
      When she opens her billing state
      Then she sees the balance $142.50 and may change the plan
      And she sees the Visa card ending 4242, a monthly cap of $1000 and auto-reload off

      Examples:
        | person          |
        | the owner       |
        | an admin        |
        | a finance admin |

  Rule: Other roles see the balance and nothing of how it is paid

    Scenario Outline: <person> opens the billing state
      Given <person> is logged in with terminal billing
      When she opens her billing state
      Then she sees the balance $142.50 but may not change the plan
      And she sees no card, no monthly cap and no auto-reload

      Examples:
        | person           |
        | a member         |
        | a security admin |
