@control
Feature: Auto-reload tops up a balance that a long conversation runs down
  A team has no plan: every reply is paid from the balance its members buy. With auto-reload
  on, the reply that takes the balance below the threshold makes the portal charge the saved
  card back up to the reload-to balance, rounded up to the cent, once: while that reload is
  pending, further replies start no other. The conversation goes on meanwhile, and the reload
  settles like any purchase.

  Background:
    Given the owner is logged in with terminal billing
    And the org's balance is $10.02
    And auto-reload is on: below $10, reload to $100

  Rule: The reply that crosses the threshold starts one reload

    Scenario: A long conversation takes the balance below $10
      When she has a conversation of 4 turns with Claude Sonnet 5, each question 10000 characters long
      Then her balance fell below $10 during the conversation
      And one reload charge, of $100 less the balance after the reply that crossed, is pending
      When the portal clock moves on 3 seconds
      Then that reload charge has settled
      And her balance is what it was, less what the conversation cost, plus the reload
