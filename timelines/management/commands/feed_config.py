from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from feedsite.singleton import SingletonModel
from graph.models import Account, FanoutMode
from ranking.models import COLD_START_FIELDS, RANKING_FIELDS, RankingConfig
from timelines.fanout.plan import account_fanout_mode
from timelines.models import LIFECYCLE_FIELDS, FeedConfig

KNOBS = {
    "celebrity_threshold": "celebrity-threshold",
    "timeline_length": "timeline-length",
    "fanout_chunk_size": "chunk-size",
    "follow_backfill": "follow-backfill",
    # feed lifecycle and ranked feeds (ranking/): flags named after the fields
    **{name: name.replace("_", "-") for name in LIFECYCLE_FIELDS},
    **{name: name.replace("_", "-") for name in (*RANKING_FIELDS, *COLD_START_FIELDS)},
}
# The row each knob lives in: ranked feeds have their own (ranking.models).
MODELS: dict[str, type[SingletonModel]] = {
    name: RankingConfig if name in (*RANKING_FIELDS, *COLD_START_FIELDS) else FeedConfig for name in KNOBS
}


class Command(BaseCommand):
    help = (
        "Show or change every knob of the feed configuration (applies at once to the next post "
        "and within seconds to reads, no restart), and force an account's fan-out mode. With no "
        "options, prints the current settings."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        for field, flag in KNOBS.items():
            model_field = MODELS[field]._meta.get_field(field)
            kind = {"FloatField": float, "CharField": str}.get(model_field.get_internal_type(), int)
            parser.add_argument(
                f"--{flag}",
                dest=field,
                type=kind,
                metavar="X" if kind is float else "N" if kind is int else "MODE",
                choices=[value for value, _ in model_field.choices] if model_field.choices else None,
                help=model_field.help_text,
            )
        parser.add_argument("--account", type=int, metavar="ID", help="Account id for --mode.")
        parser.add_argument(
            "--mode",
            choices=[m.value for m in FanoutMode],
            help="Fan-out mode for --account: auto (by threshold), push or pull.",
        )

    def handle(self, *args, **options) -> None:
        if (options["account"] is None) != (options["mode"] is None):
            raise CommandError("--account and --mode go together.")
        rows = {model: model.load() for model in (FeedConfig, RankingConfig)}
        fields = [field for field in KNOBS if options[field] is not None]
        for field in fields:
            setattr(rows[MODELS[field]], field, options[field])
        changed = [model for model in rows if any(MODELS[field] is model for field in fields)]
        errors: dict[str, list[str]] = {}
        for model in changed:  # every row valid before any is written
            try:
                rows[model].full_clean()
            except ValidationError as exc:
                errors |= exc.message_dict
        if errors:
            raise CommandError("; ".join(f"--{KNOBS[f]}: {' '.join(m)}" for f, m in errors.items()))
        for model in changed:
            rows[model].save()
        config = rows[FeedConfig]
        if options["account"] is not None:
            account = Account.objects.filter(pk=options["account"]).first()
            if account is None:
                raise CommandError(f"No account with id {options['account']}.")
            account.fanout_override = options["mode"]
            account.save(update_fields=["fanout_override"])
            self.stdout.write(
                f"account {account.id} ({account.username}): override={account.fanout_override}, "
                f"followers={account.followers_count}, celebrity={account.celebrity}, "
                f"effective mode={account_fanout_mode(account=account, config=config)}"
            )
        for field, flag in KNOBS.items():
            self.stdout.write(f"{flag:20} {getattr(rows[MODELS[field]], field)}")
