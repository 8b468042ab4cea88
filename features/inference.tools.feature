@control
Feature: A tool call is run by her terminal and answered in a follow-up request
  A model may answer with a tool call instead of text: the name of a tool and its arguments
  as JSON, streamed in pieces. Her terminal puts the pieces together, runs the tool, and
  asks again, sending the whole conversation: her question, the model's tool call, and a
  tool message carrying the tool's output. Each request is a reply of its own, billed on
  its own; her terminal adds them up.

  Background:
    Given Pat is logged in without terminal billing
    And her terminal can run "terminal", which answers "README.md  notes.txt"

  Rule: A tool call is answered in a follow-up request

    Scenario: The model lists her files, then answers
      Given the model will first call "terminal" with {"command": "ls"} and then answer "You have a README and some notes."
      When she asks Claude Sonnet 5 "What files do I have?"
      Then her tool ran with {"command": "ls"}
      And she reads the reply "You have a README and some notes."
      And her terminal's second request carried the model's tool call and her tool's output
      And the usage is the portal's count of what her terminal sent and received
      And the portal billed both requests, exactly what her terminal said the turn cost

    Scenario: A tool her terminal does not have
      Given the model will first call "browser" with {"url": "https://nousresearch.com"} and then answer "I could not look."
      When she asks Claude Sonnet 5 "What is on the Nous site?"
      Then her tool did not run
      And she reads the reply "I could not look."
      And her terminal's second request told the model it has no tool named "browser"
