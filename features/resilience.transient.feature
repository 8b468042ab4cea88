@control
Feature: A busy portal is waited out, not reported
  The portal may answer 503 temporarily_unavailable or 429 when it is busy, with a
  Retry-After header. The terminal waits as long as it says (at most 30 seconds) and
  tries again: while polling a charge, and when submitting one (with the same idempotency
  key, so a retry can never charge twice). She sees the purchase settle, not an error.

  Background:
    Given an owner of an org with a saved Visa card
    And the org's balance is $142.50

  Rule: Transient answers are retried after Retry-After

    Scenario Outline: The portal answers <status> "<error>" to the next <count> <requests>
      Given the portal will answer the next <count> <requests> with <status> "<error>" and Retry-After <seconds>
      When she buys $25
      Then the purchase settles for $25
      And her terminal saw <count> answers <status> "<error>"
      And her terminal waited <seconds> seconds before each of <count> retries
      And the org has exactly one settled charge of $25
      And her balance is $167.50

      Examples:
        | status | error                   | count | requests                   | seconds |
        | 503    | temporarily_unavailable | 2     | polls of the charge        | 7       |
        | 429    | rate_limited            | 3     | polls of the charge        | 4       |
        | 503    | temporarily_unavailable | 1     | submissions of the purchase | 5      |
