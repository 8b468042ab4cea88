@control
Feature: A charge id tells nobody else anything
  Anyone can guess or overhear a charge id. The portal answers every id that is not one of
  the caller's own org's charges exactly as it answers a charge still in flight,
  {"status": "pending"} and nothing more: never 404 (which would confirm that the id is
  not ours), never another org's amount, time or failure reason.

  Background:
    Given an owner of an org with a saved Visa card

  Rule: An id that was never issued reads as pending

    Scenario Outline: She asks about the charge "<charge id>"
      When she asks the portal about the charge "<charge id>"
      Then the answer is pending and nothing more

      Examples:
        | charge id                   |
        | ch_000000000000000000000000 |
        | not-a-charge                |
        | ../state                    |

  Rule: Another org's charge reads as pending, however it ended

    Scenario Outline: The owner of another org asks about a charge that <ended>
      Given the saved card is a Visa ending <last4>
      And she has tried to buy $25
      And the owner of another org is logged in with terminal billing
      When she asks the portal about that charge
      Then the answer is pending and nothing more
      And to its own org the charge still reads as <ended>

      Examples:
        | last4 | ended                      |
        | 4242  | settled for $25            |
        | 0002  | failed with "card_declined" |
