from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "surveys"
    verbose_name = "Satisfaction surveys"

    def ready(self) -> None:
        # Ingest asks which customer messages answer a survey (``inbox.answers``): the inbox
        # does not import its followers, so the survey registers itself.
        from inbox import answers as inbox_answers
        from surveys import answers

        inbox_answers.register(answers.classify)
