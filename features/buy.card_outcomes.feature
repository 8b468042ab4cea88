@control
Feature: The saved card decides how a purchase ends
  The portal accepts a purchase before the card is charged, so a card problem shows up
  while the terminal polls: the charge ends "failed" with a reason the terminal explains.
  Like Stripe's test cards, the card's last four digits decide: 4242 succeeds, 0002 is
  declined, 3184 needs 3-D Secure, 0069 has expired, 0119 hits a processing error.
  A failed charge credits nothing.

  Background:
    Given an owner of an org with a saved Visa card
    And the org's balance is $142.50

  Rule: A good card settles

    Scenario: The Visa ending 4242 is charged
      Given the saved card is a Visa ending 4242
      When she buys $25
      Then the purchase settles for $25
      And her balance is $167.50

  Rule: A failing card ends the purchase with its reason, and nothing is credited

    Scenario Outline: The Visa ending <last4> fails with <reason>
      Given the saved card is a Visa ending <last4>
      When she buys $25
      Then the purchase fails because "<reason>"
      And her balance is $142.50
      And the org has no settled charge

      Examples:
        | last4 | reason                  |
        | 0002  | card_declined           |
        | 3184  | authentication_required |
        | 0069  | payment_method_expired  |
        | 0119  | processing_error        |
