@control
Feature: A charge that stays pending is a timeout, not a failure
  The terminal polls a charge every 2 seconds and gives up after 5 minutes. A charge still
  pending then may settle later, so the terminal reports a timeout (check the balance later,
  do not buy again), never a failure. The terminal's waiting moves the portal's clock, so
  these five minutes take no wall time.

  Background:
    Given an owner of an org with a saved Visa card
    And the org's balance is $142.50

  Rule: Polling stops at the 5-minute mark

    Scenario: The card network never answers
      Given the org's next charge will stay pending forever
      When she buys $25
      Then her terminal reports a timeout after 5 minutes of portal time
      And her terminal polled the charge every 2 seconds
      And the charge is still pending at the portal
      And her balance is $142.50

    Scenario: A slow charge that settles within the 5 minutes is still caught
      Given the org's next charge will settle after 4 minutes
      When she buys $25
      Then the purchase settles for $25
      And her balance is $167.50
