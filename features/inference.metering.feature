@control
Feature: Every reply is billed exactly its tokens at the model's price
  She chats through the portal's inference API, and every reply is billed: its prompt and
  completion tokens at the model's per-token prices, which anyone can read at /v1/models,
  rounded up to the micro-dollar. The portal counts tokens without a tokenizer: a quarter of
  the bytes it received, and a quarter of the bytes it generated, each rounded up. Her
  terminal adds up what each reply cost, and afterwards asks the portal what is left.

  The bill is paid from three places, in a fixed order: the month's grant of her plan, then
  what rolled over from earlier months, then what she bought. When nothing covers the rest,
  it becomes a debt on her grant, paid first when the plan renews.

  Pat is on Plus, with $12.50 of grant, $3 of rollover and $5 of purchased balance.

  Background:
    Given Pat is logged in without terminal billing

  Rule: She pays her tokens at the model's price, and her terminal says so

    Scenario Outline: She asks <model>
      Given the model will answer "A short answer, for a short question."
      When she asks <model> "What does a short answer cost?"
      Then she reads the reply "A short answer, for a short question."
      And the usage is the portal's count of what her terminal sent and received
      And her terminal says the reply cost its usage at the model's price
      And the portal billed exactly what her terminal said it cost
      And her grant paid for it all
      And her terminal says what is left, as the portal counts it after the reply

      Examples:
        | model            |
        | Claude Sonnet 5  |
        | GPT-5.4 mini     |
        | Gemini 3.5 Flash |
        | Claude Haiku 4.5 |

    Scenario: A conversation sends everything said so far, and grows dearer
      When she asks Claude Sonnet 5 "Hello?"
      And she asks Claude Sonnet 5 "And what did I just say?"
      Then her terminal's last question carried the whole conversation so far
      And the second reply's prompt was longer than the first's
      And the portal billed exactly what her terminal said it cost

  Rule: The grant is spent first, then the rollover, then the purchased balance

    Scenario: A question bigger than her grant and her rollover together
      Given her plan has $0.01 of grant and $0.02 of rollover left this cycle
      When she asks Claude Sonnet 5 a question of 40000 characters
      Then the portal billed exactly what her terminal said it cost
      And the portal took $0.01 from her grant, $0.02 from her rollover and the rest from her purchased balance

    Scenario: With the grant spent, the rollover pays
      Given her plan has $0 of grant and $3 of rollover left this cycle
      When she asks Claude Sonnet 5 "Who pays for this?"
      Then her rollover paid for it all

    Scenario: With the plan spent, the purchased balance pays
      Given her plan has $0 of grant and $0 of rollover left this cycle
      When she asks Claude Sonnet 5 "Who pays for this?"
      Then her purchased balance paid for it all

  Rule: A reply is billed in full, even beyond what is left: the rest is a debt on the grant

    Scenario: A question dearer than all she has left
      Given her plan has $0.01 of grant and $0 of rollover left this cycle
      And her purchased balance is $0
      When she asks Claude Sonnet 5 a question of 40000 characters
      Then the portal billed exactly what her terminal said it cost
      And her grant is in debt by the cost less $0.01
