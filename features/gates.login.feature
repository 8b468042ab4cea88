Feature: Only a live login reaches terminal billing
  Every billing request carries the terminal's access token. The portal checks it against
  its own record of the login, not just the token's signature and expiry, so a revoked
  session is refused at once. An access token lives 15 minutes: an expired one is renewed
  by the terminal with its single-use refresh token, without bothering her. A revoked
  session cannot be renewed; only a new login helps.

  Rule: A token the portal did not sign, or cannot read, is refused, and she is asked to log in

    Scenario: Her terminal holds a string that is not an access token
      Given the owner's terminal holds a string that is not an access token and no refresh token
      When she opens her billing state
      Then the portal answered 401 "invalid_token"
      And she is told to log in again

    @control
    Scenario: Her access token was re-signed with someone else's key
      Given the owner is logged in with terminal billing
      And someone has re-signed her access token with another key, and dropped her refresh token
      When she opens her billing state
      Then the portal answered 401 "invalid_token"
      And she is told to log in again

    Scenario: A request with no token at all is refused
      Given the owner's terminal is not logged in
      When her terminal asks for the billing state without a token
      Then the portal answered 401 "invalid_token"
      And she is told to log in again

    Scenario: A terminal that never logged in asks her to, without calling the portal
      Given the owner's terminal is not logged in
      When she opens her billing state
      Then she is told to log in again
      And her terminal sent nothing to the portal

  @control
  Rule: An expired access token is renewed without her noticing

    Scenario: Her access token expired before she buys
      Given an owner of an org with a saved Visa card
      And her access token has expired
      When she buys $25
      Then the purchase settles for $25
      And the portal answered 401 "invalid_token"
      And her terminal renewed its login once, with a new refresh token
      And her login now includes terminal billing

  @control
  Rule: A revoked session is final

    Scenario: Her session was revoked in the portal
      Given an owner of an org with a saved Visa card
      And her session has been revoked in the portal
      When she buys $25
      Then the purchase is refused with "session_revoked"
      And the refusal says recovery is "login"
      And she is told to log in again
      And her terminal did not try to renew its login
      And nothing was charged
