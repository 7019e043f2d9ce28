"""The chatbot: rules, FAQ answers, greeting and away messages, hand-off to humans, opt-in/out."""
