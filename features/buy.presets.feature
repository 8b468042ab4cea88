@control
Feature: Buy credits from the terminal
  As the owner of an org with a saved card
  I want to buy credits from my terminal, a preset or an amount I type
  So that my agents keep running without a trip to the web portal

  The portal accepts a purchase at once (202) but credits nothing yet; the terminal polls
  the charge every 2 seconds until it settles, and the balance rises then, exactly once.
  The presets and the bounds for a typed amount come from the portal, not the terminal.

  Background:
    Given an owner of an org with a saved Visa card
    And the org's balance is $142.50

  Rule: The presets and bounds are the portal's

    Scenario: She sees what she may buy
      When she opens her billing state
      Then she is offered the presets $100, $250 and $500
      And she may buy between $10 and $10,000

    Scenario Outline: She buys the <preset> preset
      When she buys <preset>
      Then the purchase settles for <preset>
      And her balance is <balance>
      And the org has exactly one settled charge of <preset>

      Examples:
        | preset | balance |
        | $100   | $242.50 |
        | $250   | $392.50 |
        | $500   | $642.50 |

  Rule: A typed amount within the bounds is charged to the cent

    Scenario Outline: She types <amount>
      When she buys <amount>
      Then the purchase settles for <amount>
      And her balance is <balance>

      Examples:
        | amount  | balance |
        | $10     | $152.50 |
        | $25     | $167.50 |
        | $42.55  | $185.05 |
        | $999.99 | $1,142.49 |

  Rule: A typed amount the portal would refuse is refused before anything is charged

    Scenario Outline: She types <amount>
      When she buys <amount>
      Then the purchase is refused with "<error>"
      And her terminal sent no purchase to the portal
      And nothing was charged

      Examples:
        | amount     | error                |
        | $9.99      | amount_out_of_bounds |
        | $10,000.01 | amount_out_of_bounds |
        | $42.505    | validation_failed    |

  Rule: The balance rises once, at settlement, and never again

    Scenario: Money arrives when the charge settles, not when it is accepted
      When she submits a purchase of $25 without waiting for it
      Then the charge reads as pending
      And her balance is $142.50
      When the portal clock moves on 3 seconds
      Then the charge reads as settled for $25
      And her balance is $167.50
      When the portal clock moves on 1 hour
      Then the charge reads as settled for $25
      And her balance is $167.50
      And the org has exactly one settled charge of $25
