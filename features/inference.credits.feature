@control
Feature: With nothing left to spend, paid models refuse and free ones answer
  When her grant, her rollover and her purchased balance are all used up, a paid model
  answers 402 no_usable_credits, and nothing is generated or billed. Her terminal checks her
  account once (which must agree: no paid access), tells her to buy credits, and stops. Once
  she has bought some, the same question goes through, paid from what she bought. Free
  models answer whatever is left, and cost nothing.

  Background:
    Given Pat is logged in with terminal billing
    And her plan has $0 of grant and $0 of rollover left this cycle
    And her purchased balance is $0

  Rule: Out of credits, a paid model refuses until she buys more

    Scenario: She is refused, buys $10, and asks again
      When she asks Claude Sonnet 5 "Are you there?"
      Then her question is refused with "no_usable_credits"
      And she is told to buy credits, with a link to the portal
      And her terminal read her account once, which said she has no paid access
      And nothing was billed
      When she buys $10
      Then the purchase settles for $10
      When she asks Claude Sonnet 5 "And now?"
      Then she reads the reply "Hello from mockportal."
      And the portal billed exactly what her terminal said it cost
      And her purchased balance paid for it all

  Rule: A free model answers with nothing left, and costs nothing

    Scenario: She asks the free Nemotron
      When she asks the free Nemotron "Are you there?"
      Then she reads the reply "Hello from mockportal."
      And her terminal says the reply cost $0
      And nothing was billed
