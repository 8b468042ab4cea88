@control
Feature: Auto-reload tops the balance up by itself
  An owner can have the portal reload the org's balance whenever usage leaves it below a
  threshold. The terminal sets the rule ("below $20, reload to $100": the second number is
  the balance to reload to, not an amount to add), and the billing state shows it. The
  reload is an ordinary charge on the saved card: it settles like any purchase, counts
  against the monthly cap, but uses none of the hour's five terminal purchases.

  Background:
    Given an owner of an org with a saved Visa card
    And the org's balance is $142.50

  Rule: The rule she sets is the rule the portal shows

    Scenario: She turns auto-reload on
      When she turns auto-reload on: below $20, reload to $100
      Then auto-reload is on: below $20, reload to $100
      And her billing state shows auto-reload on: below $20, reload to $100

    Scenario: She turns auto-reload off, and the portal keeps the amounts as last set
      Given auto-reload is on: below $30, reload to $150
      When she turns auto-reload off
      Then her billing state shows auto-reload off: below $30, reload to $150

    Scenario Outline: A rule that cannot work is refused: below <threshold>, reload to <reload to>
      When she turns auto-reload on: below <threshold>, reload to <reload to>
      Then the auto-reload change is refused with "<error>"
      And her billing state shows auto-reload off: below $20, reload to $100

      Examples:
        | threshold | reload to  | error                |
        | $100      | $50        | validation_failed    |
        | $50       | $50        | validation_failed    |
        | $5        | $100       | amount_out_of_bounds |
        | $20       | $10,000.01 | amount_out_of_bounds |

  Rule: Usage that leaves the balance below the threshold is reloaded

    Scenario: Usage drops the balance to $12.50 and the portal reloads it to $100
      Given auto-reload is on: below $20, reload to $100
      When the org uses $130 of inference
      Then a reload charge of $87.50 is pending
      And her balance is $12.50
      When the portal clock moves on 3 seconds
      Then the reload charge of $87.50 has settled
      And her balance is $100

    Scenario: Usage that stays above the threshold reloads nothing
      Given auto-reload is on: below $20, reload to $100
      When the org uses $100 of inference
      Then no reload charge was made
      And her balance is $42.50

    Scenario: With auto-reload off, nothing is reloaded
      Given auto-reload is on: below $20, reload to $100
      And she has turned auto-reload off
      When the org uses $130 of inference
      Then no reload charge was made
      And her balance is $12.50

    Scenario: A reload uses none of the hour's five terminal purchases
      Given auto-reload is on: below $20, reload to $100
      And she has bought $25 four times
      When the org uses $230 of inference
      And the portal clock moves on 3 seconds
      Then the reload charge of $87.50 has settled
      When she buys $25
      Then the purchase settles for $25
