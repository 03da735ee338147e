"""Deploying this project's stack: its template, its code zips uploaded, then the change-set deploy."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tracking_templates.cli import DEFAULT_ENV
from tracking_templates.names import ENV_PATTERN, FUNCTION_CODE_KEY_PARAMS, Params, is_valid_env
from tracking_templates.settings_file import NO_FILE, SettingsFile
from tracking_templates.sources import FUNCTIONS_DIR

from ..aws import Aws, cli_options
from ..cli import writable_dir
from ..console import Console
from ..errors import UsageError
from ..package.packager import DEFAULT_OUTPUT_DIR, NO_BYTECODE_NOTE, Packager, bytecode_interpreter, plan_upload, upload
from ..package.s3upload import UPLOAD_NOTES
from .bootstrap import DEFAULT_BOOTSTRAP_STACK, ensure_bootstrapped
from .deployer import Deployer, DeployRequest, DeployResult, Polling
from .names import validate_stack_name, validate_stack_tags
from .template import StackTemplate

if TYPE_CHECKING:
    from tracking_templates.settings import Settings


@dataclass(frozen=True)
class DeployOptions:
    """A deploy, as the command line (or a caller such as scripts.local) describes it."""

    stack_name: str
    # None: not given. A synthesized template is then dev's; a --template-file keeps its own
    # Environment (its default on create, the stack's previous value on update).
    env: str | None = None
    template_file: Path | None = None
    bucket: str | None = None
    bootstrap_stack: str = DEFAULT_BOOTSTRAP_STACK
    parameter_overrides: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    execute: bool = True
    allow_replacement: bool = False
    bundle_deps: bool = True
    # The zips' bytecode: compiled by PYTHON (else python3.13 found on PATH) unless False.
    bytecode: bool = True
    python: str | None = None
    # False: a plan that names the code keys without writing the bucket (needs execute=False).
    upload: bool = True
    output_dir: Path = DEFAULT_OUTPUT_DIR
    functions_dir: Path = FUNCTIONS_DIR
    polling: Polling = field(default_factory=Polling)
    # The settings file (--config): the environment's settings for the synthesized template
    # and for the stack's protection (termination protection, rollback monitoring).
    settings_file: SettingsFile = NO_FILE

    @property
    def environment(self) -> str | None:
        """The Environment parameter value the deploy fills in (None: leave it to the template)."""
        if self.env is not None:
            return self.env
        return None if self.template_file is not None else DEFAULT_ENV


def synthesize(env: str, settings_file: SettingsFile = NO_FILE) -> StackTemplate:
    """The project's template for ENV (its settings: built-in profile, then SETTINGS_FILE),
    rendered as `python -m tracking_templates` does."""
    from tracking_templates import build_template
    from tracking_templates.render import to_json
    from tracking_templates.settings import SettingsError

    try:
        settings = settings_file.settings_for(env)
    except SettingsError as error:
        raise UsageError(f"--env {env}: {error}") from None
    return StackTemplate.from_text(to_json(build_template(settings)), f"template for env {env}")


def load_template(options: DeployOptions) -> StackTemplate:
    """Validate the names and load (or synthesize) the template: all before any AWS call."""
    validate_stack_name(options.stack_name)
    if options.env is not None and not is_valid_env(options.env):
        raise UsageError(f"invalid --env {options.env!r}: must match {ENV_PATTERN}")
    validate_stack_name(options.bootstrap_stack)
    validate_stack_tags(options.tags)
    if options.template_file is not None:
        template = StackTemplate.from_file(options.template_file)
    else:
        template = synthesize(options.environment or DEFAULT_ENV, options.settings_file)
    template.check_parameters(options.parameter_overrides)
    return template


def code_key_parameters(template: StackTemplate) -> dict[str, str]:
    """functions/<dir> -> code-key parameter, for the parameters this template declares."""
    return {
        function: param
        for function, param in FUNCTION_CODE_KEY_PARAMS.items()
        if param in template.parameters
    }


def deploy_stack(options: DeployOptions, aws: Aws, console: Console | None = None) -> DeployResult:
    """The whole deploy: template, bucket, code upload, change set, execution."""
    console = console or Console()
    template = load_template(options)
    code_keys = code_key_parameters(template)
    if not options.upload and options.execute:
        raise UsageError("--no-upload needs --no-execute: the change set would run code that is not in the bucket")
    interpreter = None
    if code_keys:
        writable_dir(options.output_dir, "--output-dir")
        interpreter = bytecode_interpreter(options.python, options.bundle_deps and options.bytecode)
        if options.bundle_deps and not options.bytecode:
            console.warn(NO_BYTECODE_NOTE)
    aws.check_credentials()
    cfn, s3 = aws.client("cloudformation"), aws.client("s3")
    deployer = Deployer(cfn, s3, options.polling, console, cli_options=cli_options(aws.target))
    bucket = options.bucket or ensure_bootstrapped(deployer, options.bootstrap_stack).bucket

    computed: dict[str, str] = {}
    if Params.ENVIRONMENT in template.parameters and options.environment is not None:
        computed[Params.ENVIRONMENT] = options.environment
    if Params.CODE_BUCKET in template.parameters:
        computed[Params.CODE_BUCKET] = bucket
    if code_keys:
        packager = Packager(options.functions_dir, options.output_dir, options.bundle_deps, interpreter=interpreter)
        send = upload if options.upload else plan_upload
        for function, param in sorted(code_keys.items()):
            uploaded = send(s3, packager.build(function), bucket, options.stack_name)
            console.info(f"{function}: {uploaded.uri} ({UPLOAD_NOTES[uploaded.outcome]})")
            computed[param] = uploaded.key

    parameters = {**computed, **options.parameter_overrides}
    settings = protection_settings(template, parameters, options.settings_file)
    request = DeployRequest(
        stack_name=options.stack_name,
        template=template,
        parameters=parameters,
        tags=options.tags,
        execute=options.execute,
        allow_replacement=options.allow_replacement,
        artifact_bucket=bucket,
        artifact_prefix=options.stack_name,
        termination_protection=settings.termination_protection,
        rollback_monitoring_minutes=settings.rollback_monitoring_minutes,
        # Every named resource is "...-${Environment}": another value replaces them all.
        pinned_parameters=(Params.ENVIRONMENT,),
    )
    return deployer.deploy(request)


def protection_settings(
    template: StackTemplate, parameters: dict[str, str], settings_file: SettingsFile = NO_FILE
) -> Settings:
    """The settings of the environment being deployed (SETTINGS_FILE's, else its profile's): the
    Environment value sent, else the template's default (a --template-file without --env), else dev's."""
    declared = (template.document.get("Parameters") or {}).get(Params.ENVIRONMENT) or {}
    env = parameters.get(Params.ENVIRONMENT, declared.get("Default", DEFAULT_ENV))
    return settings_file.settings_for(env if is_valid_env(env) else DEFAULT_ENV)
