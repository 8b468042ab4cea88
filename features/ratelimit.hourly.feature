@control
Feature: At most five terminal purchases an hour
  To bound what a runaway script or a stolen terminal can spend, the portal accepts at
  most five terminal charges in any rolling hour for an org, and at most five for one
  login (grant). The sixth is refused with 429 rate_limited and a Retry-After header: the
  whole seconds until the oldest charge of the hour turns an hour old and frees a slot.
  A charge uses its slot whatever became of it; auto-reload charges use none.

  A login belongs to exactly one org, so five charges of one login are always also five of
  its org's: the per-login limit cannot be reached without the per-org one, and is shown
  here through one person's login filling the hour.

  Background:
    Given an org with a saved Visa card

  Rule: The sixth charge in an hour is refused, whoever asks

    Scenario: One login fills the hour
      Given the owner is logged in with terminal billing
      And she has bought $25 five times
      When she buys $25
      Then the purchase is refused with "rate_limited"
      And the org has exactly 5 settled charges of $25

    Scenario: Three people share the org's five
      Given the owner is logged in with terminal billing
      And she has bought $25 three times
      And an admin is logged in with terminal billing
      And she has bought $25 twice
      And a finance admin is logged in with terminal billing
      When she buys $25
      Then the purchase is refused with "rate_limited"

    Scenario: Declined charges use their slots too
      Given the owner is logged in with terminal billing
      And the saved card is a Visa ending 0002
      And she has tried to buy $25 five times
      When she buys $25
      Then the purchase is refused with "rate_limited"

  Rule: Retry-After says exactly when the next slot frees

    Scenario: She waits out the Retry-After and buys again
      Given the owner is logged in with terminal billing
      And she has bought $25 five times, 10 minutes apart
      When she buys $25
      Then the purchase is refused with "rate_limited"
      And Retry-After is the time until her first purchase of the hour is an hour old
      When the portal clock moves on to one second before that
      And she buys $25
      Then the purchase is refused with "rate_limited"
      And Retry-After is 1 second
      When the portal clock moves on 1 second
      And she buys $25
      Then the purchase settles for $25
