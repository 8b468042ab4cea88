@control
Feature: One purchase, one charge, whatever the network does
  Every purchase carries an Idempotency-Key the terminal picks. When an answer is lost,
  the terminal cannot know whether the portal took the money, so it sends the same request
  again with the same key; the portal answers with its first answer (same charge, header
  Idempotent-Replayed) instead of charging twice. A key is bound to the amount it was first
  used for, and a replay costs nothing: it is not a new charge and uses no rate-limit slot.

  Background:
    Given an owner of an org with a saved Visa card
    And the org's balance is $142.50

  Rule: A lost answer is retried with the same key, and charges once

    Scenario: The portal accepts the purchase but its answer never reaches the terminal
      Given the network will lose the portal's answer to her next purchase
      When she buys $25
      Then the purchase settles for $25
      And the portal accepted her first purchase request before its answer was lost
      And her terminal sent the purchase again with the same idempotency key
      And the portal answered the retry as a replay of the same charge
      And the org has exactly one settled charge of $25
      And her balance is $167.50

    Scenario: Two copies of one purchase arrive at the same moment
      When her terminal sends the same purchase of $25 twice at once with purchase key "twin"
      And the portal clock moves on 3 seconds
      Then both answers name the same charge
      And the org has exactly one settled charge of $25
      And her balance is $167.50

  Rule: A key belongs to the amount it was first used for

    Scenario: The same key with another amount is a conflict
      Given she has bought $25 with purchase key "order-1"
      When she buys $30 with purchase key "order-1"
      Then the purchase is refused with "idempotency_conflict"
      And the org has exactly one settled charge of $25
      And her balance is $167.50

    Scenario: The same key with the same amount is the same purchase
      Given she has bought $25 with purchase key "order-1"
      When she buys $25 with purchase key "order-1"
      Then the purchase settles for $25 as a replay of her earlier charge
      And the org has exactly one settled charge of $25
      And her balance is $167.50

  Rule: A replay uses no rate-limit slot

    Scenario: With the hour's five purchases made, repeating the last is answered, not limited
      Given she has bought $25 five times, the last with purchase key "fifth"
      When she buys $25 with purchase key "fifth"
      Then the purchase settles for $25 as a replay of her earlier charge
      And the org has exactly 5 settled charges of $25
      When she buys $25
      Then the purchase is refused with "rate_limited"
