"""Checks that a run can start, made before anything is written: Trainer's options and the model.

``TrainingArguments`` checks some values when parsed; others (a negative learning rate, a zero batch size)
only fail once ``Trainer`` builds its optimizer and data loader, minutes into the run. Here the same
optimizer and scheduler Trainer would build are constructed on a one-parameter dummy, and the rest is
checked by value, so every such mistake ends in one line before the run folder is touched.
"""

from __future__ import annotations

from .errors import UsageError


def _checks(args) -> list[tuple[bool, str]]:
    epochs_or_steps = args.max_steps > 0 or args.num_train_epochs > 0
    return [
        (args.learning_rate >= 0, f"--learning_rate must be >= 0 (got {args.learning_rate})"),
        (args.per_device_train_batch_size >= 1,
         f"--per_device_train_batch_size must be at least 1 (got {args.per_device_train_batch_size})"),
        (args.per_device_eval_batch_size >= 1,
         f"--per_device_eval_batch_size must be at least 1 (got {args.per_device_eval_batch_size})"),
        (args.gradient_accumulation_steps >= 1,
         f"--gradient_accumulation_steps must be at least 1 (got {args.gradient_accumulation_steps})"),
        (epochs_or_steps, f"--num_train_epochs must be > 0 (got {args.num_train_epochs}), or set --max_steps > 0"),
        (args.weight_decay >= 0, f"--weight_decay must be >= 0 (got {args.weight_decay})"),
        (args.adam_epsilon >= 0, f"--adam_epsilon must be >= 0 (got {args.adam_epsilon})"),
        (0 <= args.adam_beta1 < 1, f"--adam_beta1 must be in [0, 1) (got {args.adam_beta1})"),
        (0 <= args.adam_beta2 < 1, f"--adam_beta2 must be in [0, 1) (got {args.adam_beta2})"),
        (args.max_grad_norm >= 0, f"--max_grad_norm must be >= 0, 0 for no clipping (got {args.max_grad_norm})"),
        (0 <= args.seed < 2**32, f"--seed must be in [0, 2**32) (got {args.seed})"),
        (0 <= args.label_smoothing_factor < 1,
         f"--label_smoothing_factor must be in [0, 1) (got {args.label_smoothing_factor})"),
    ]


def check_training_arguments(args) -> None:
    """Raise :class:`UsageError` for a ``TrainingArguments`` value ``Trainer`` would refuse once training."""
    for ok, message in _checks(args):
        if not ok:
            raise UsageError(f"invalid training option: {message}")
    from .trackers import check_report_to

    check_report_to(args)  # --report_to: a supported tracker whose package is installed
    import torch
    from transformers import Trainer, get_scheduler

    try:
        optimizer_class, kwargs = Trainer.get_optimizer_cls_and_kwargs(args)
        parameter = torch.nn.Parameter(torch.zeros(1))
        optimizer = optimizer_class([{"params": [parameter], "weight_decay": args.weight_decay}], **kwargs)
        get_scheduler(args.lr_scheduler_type, optimizer, num_warmup_steps=args.get_warmup_steps(10),
                      num_training_steps=10, scheduler_specific_kwargs=args.lr_scheduler_kwargs or {})
    except (ValueError, TypeError, KeyError) as exc:
        message = str(exc).splitlines()[0][:160] if str(exc) else exc.__class__.__name__
        raise UsageError(f"Trainer refuses the training options (--optim {args.optim}, --lr_scheduler_type "
                         f"{args.lr_scheduler_type}): {message}; fix the option named") from None
    except ImportError as exc:  # e.g. --optim adamw_bnb_8bit without bitsandbytes
        raise UsageError(f"--optim {args.optim} needs a package that is not installed ({exc}); install it "
                         "or choose another --optim") from None


def check_model_loads(model_args, model_config) -> None:
    """Load the model once (weights and all) and drop it: a folder without weights fails here, not in round 0."""
    from .modeling import load_model

    model = load_model(model_args, model_config)
    del model
