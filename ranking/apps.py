from django.apps import AppConfig


class RankingAppConfig(AppConfig):  # not RankingConfig: that is the model of ranking's knobs
    name = "ranking"
