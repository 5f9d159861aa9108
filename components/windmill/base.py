"""The lifecycle every Windmill API resource shares, written once, and its program-side base.

A resource module writes its ``Declaration`` (``schema.py``) and implements four small hooks
(``create_object``, ``read_object``, ``update_object``, ``delete_object``); ``WindmillProvider``
turns them into the Pulumi dynamic provider protocol (``check`` and ``diff`` come from the
declaration):

* ``read`` returns refreshed outputs *and* refreshed inputs (``ReadResult.inputs``), so after
  ``pulumi refresh`` the next preview shows exactly the drift; an object deleted out of band reads
  as gone (``ReadResult(None, {})``) and is dropped from state.
* ``update`` calls the hook only for changed own inputs (a new token or timeout makes no call)
  and always returns the full outputs.
* ``create`` adopts: a create that finds the object already in Windmill takes it over when its
  content matches the declaration (so a retried create never fails on its own first attempt), and
  with the ``adopt`` input also when it differs, writing only the declared fields that differ. It
  never deletes, and never re-creates what exists. Declarations opt in with ``schema.ADOPT_INPUT``
  and ``schema.ADOPTED_OUTPUT``; the hooks are ``live_for_adoption`` and ``adoption_update``.

The connection has one source: the resource's inputs ``api_url``, ``api_token`` (a secret) and
``api_connect_timeout_seconds`` / ``api_read_timeout_seconds``, which the program passes from its
settings (``Connection``). The provider never reads stack config or the environment, and holds no
data, so nothing but its class reaches the serialized ``__provider`` in state.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, UpdateResult

from .client import ConnectionSettings, WindmillClient, created_as_sent_check
from .errors import AdoptionRequiredError, AlreadyExistsError, ConnectionConfigError
from .pickling import leaves_pickler_as_found
from .rules import DEFAULT_CONNECT_TIMEOUT_SECONDS, DEFAULT_READ_TIMEOUT_SECONDS
from .schema import ADOPT_INPUT, ADOPTED_OUTPUT, CONNECTION_INPUTS, KIND_KEY, DeclaredProvider

CONNECTION_KEYS = tuple(spec.name for spec in CONNECTION_INPUTS)
ADOPT_KEY, ADOPTED_KEY = ADOPT_INPUT.name, ADOPTED_OUTPUT.name


class WindmillProvider(DeclaredProvider, ABC):
    """Base of every Windmill API dynamic provider: see the module docstring for the contract."""

    def __getstate__(self) -> dict[str, Any]:
        # A provider holds no data: only its class (by reference) reaches state.
        return {}

    # -- connection --------------------------------------------------------------------------

    def connection(self, props: Mapping[str, Any]) -> ConnectionSettings:
        label = self.declaration.label
        url, token = props.get("api_url"), props.get("api_token")
        if not url:
            raise ConnectionConfigError(
                f"No Windmill URL for this {label}: its api_url input is empty. The program passes "
                f"the stack config (pulumi config set windmillUrl https://…) or, on a domain stack, "
                f"the platform stack's windmillApiUrl output"
            )
        if not token:
            raise ConnectionConfigError(
                f"No Windmill API token for this {label}: its api_token input is empty. The program "
                f"passes the stack config (pulumi config set --secret windmillToken …) or, on a domain "
                f"stack, the platform stack's windmillToken output"
            )
        return ConnectionSettings(
            url=url,
            token=token,
            connect_timeout=float(props.get("api_connect_timeout_seconds") or DEFAULT_CONNECT_TIMEOUT_SECONDS),
            read_timeout=float(props.get("api_read_timeout_seconds") or DEFAULT_READ_TIMEOUT_SECONDS),
        )

    def client(self, props: Mapping[str, Any]) -> WindmillClient:
        return WindmillClient(self.connection(props))

    # -- hooks for subclasses ----------------------------------------------------------------

    @abstractmethod
    def object_id(self, outputs: Mapping[str, Any]) -> str:
        """The Pulumi id, from the outputs of a create (inputs and computed values)."""

    @abstractmethod
    def create_object(self, client: WindmillClient, inputs: dict[str, Any]) -> dict[str, Any]:
        """Create the object; return output-only values (the declaration's ``outputs``)."""

    @abstractmethod
    def read_object(
        self, client: WindmillClient, id_: str, state: dict[str, Any]
    ) -> dict[str, Any] | None:
        """Return refreshed outputs (own inputs and outputs), or None when the object is gone."""

    @abstractmethod
    def update_object(
        self, client: WindmillClient, olds: dict[str, Any], news: dict[str, Any], changed: set[str]
    ) -> dict[str, Any]:
        """Apply ``changed`` own inputs with the fewest calls; return refreshed output-only values."""

    @abstractmethod
    def delete_object(self, client: WindmillClient, state: dict[str, Any]) -> None:
        """Delete; an object that is already gone is a success."""

    def state_from_id(self, id_: str) -> dict[str, Any]:
        """Identity fields recovered from an id, for a read without prior state (import/get)."""
        return {}

    def rolled_back(self, client: WindmillClient, inputs: dict[str, Any], error: Exception) -> Exception:
        """Undo a create whose later steps failed, so a failed run leaves no object Pulumi does not
        know about (the next run would otherwise stop on "already exists"). Returns ``error``."""
        try:
            self.delete_object(client, inputs)
        except Exception as cleanup:
            error.add_note(f"Rolling back the partly created {self.declaration.label} also failed: {cleanup}")
        return error

    # -- adoption ----------------------------------------------------------------------------

    @property
    def adoptable(self) -> bool:
        """Whether this kind can take over an existing object (its declaration has ``adopt``)."""
        return ADOPT_KEY in self.declaration.input_names

    def live_for_adoption(self, client: WindmillClient, inputs: dict[str, Any]) -> dict[str, Any] | None:
        """The object already in Windmill at the declared identity, as ``read_object`` sees it with the
        declaration as state (so what read does not count as drift does not count here either), or
        None when there is none this token can read."""
        return self.read_object(client, self.object_id(inputs), dict(inputs))

    def adoption_differences(self, inputs: dict[str, Any], live: dict[str, Any]) -> set[str]:
        """The declared fields whose live value differs. Provider-only settings never differ, and
        neither does an optional field the declaration leaves unset: adopting keeps its live value."""
        fields = tuple(spec for spec in self.declaration.inputs if not spec.local and inputs.get(spec.name) is not None)
        return {spec.name for spec in self.declaration.changed_inputs(live, inputs, fields)}

    def created_as_sent(self, client: WindmillClient, inputs: dict[str, Any]) -> bool:
        """Whether Windmill holds this object with exactly the declared content (a retried create
        that meets "already exists" has then met its own first attempt)."""
        live = self.live_for_adoption(client, inputs)
        return live is not None and not self.adoption_differences(inputs, live)

    def adoption_update(
        self, client: WindmillClient, live: dict[str, Any], inputs: dict[str, Any], differing: set[str]
    ) -> dict[str, Any]:
        """Write the declared fields that differ from ``live``; returns output-only values."""
        return self.update_object(client, live, inputs, differing)

    def adopt_existing(self, client: WindmillClient, inputs: dict[str, Any], live: dict[str, Any]) -> dict[str, Any]:
        """Take over ``live``, the object a create found: output-only values, with ``adopted``.

        Matching content needs no call. Different content is written (only the differing declared
        fields) when ``adopt`` is set; otherwise AdoptionRequiredError names the fields, never values.
        """
        differing = self.adoption_differences(inputs, live)
        if differing and not inputs.get(ADOPT_KEY):
            fields = " and ".join(sorted(differing))
            raise AdoptionRequiredError(
                f"Windmill {self.declaration.label} {self.object_id(inputs)!r} already exists with another {fields} "
                f"than declared. Set adopt: true on the workspace in the stack config (or adopt=true on this "
                f"resource) to take it over and write the declared {fields}, or declare what it holds (python -m "
                f"homeops import writes a matching stack config)"
            )
        outputs = self.declaration.known_outputs(live)
        if differing:
            outputs.update(self.adoption_update(client, live, inputs, differing))
        return {**outputs, ADOPTED_KEY: True}

    def create_or_adopt(self, client: WindmillClient, inputs: dict[str, Any]) -> dict[str, Any]:
        """Create the object, or take over the one that is already there (see ``adopt_existing``).

        With ``adopt`` the object is looked up first, so taking one over sends no create at all.
        """
        if not self.adoptable:
            return self.create_object(client, inputs)
        if inputs.get(ADOPT_KEY):
            live = self.live_for_adoption(client, inputs)
            if live is not None:
                return self.adopt_existing(client, inputs, live)
        try:
            return self.create_object(client, inputs)
        except AlreadyExistsError:
            live = self.live_for_adoption(client, inputs)
            if live is None:
                raise  # it exists, but this token cannot read it: Windmill's message says so
            return self.adopt_existing(client, inputs, live)

    # -- the protocol ------------------------------------------------------------------------

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = self.declaration.known_inputs(props)
        client = self.client(props)
        # A *retried* create that meets "already exists" with this content met its own first attempt:
        # the client then carries on with the create's later steps (client.created_as_sent_check).
        with created_as_sent_check(lambda: self.created_as_sent(client, inputs)):
            outputs = {**inputs, **self.create_or_adopt(client, inputs)}
        return CreateResult(self.object_id(outputs), outputs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        declaration = self.declaration
        state = {**self.state_from_id(id_), **self._state(props)}
        live = self.read_object(self.client(props), id_, state)
        if live is None:
            return ReadResult(None, {})
        connection = {k: props[k] for k in CONNECTION_KEYS if props.get(k) is not None}
        outs = {**live, **connection, KIND_KEY: declaration.kind}
        if props.get(ADOPTED_KEY) is not None:
            outs[ADOPTED_KEY] = props[ADOPTED_KEY]  # how the object came under management: history
        for spec in declaration.inputs:  # provider-only settings are not in Windmill: keep them
            if spec.local and spec.name not in live and props.get(spec.name) is not None:
                outs[spec.name] = props[spec.name]
        inputs = {name: outs[name] for name in declaration.input_names if outs.get(name) is not None}
        return ReadResult(id_, outs, inputs=inputs)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        declaration = self.declaration
        inputs = declaration.known_inputs(news)
        calls_for = tuple(spec for spec in declaration.inputs if not spec.local)
        changed = {spec.name for spec in declaration.changed_inputs(olds, inputs, calls_for)}
        outputs = declaration.known_outputs(olds)
        if changed:
            outputs.update(self.update_object(self.client(news), self._state(olds), inputs, changed))
        return UpdateResult({**inputs, **outputs})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        state = {**self.state_from_id(_id), **self._state(props)}
        self.delete_object(self.client(props), state)

    def _state(self, props: Mapping[str, Any]) -> dict[str, Any]:
        return {**self.declaration.known_inputs(props), **self.declaration.known_outputs(props)}


def split_id(id_: str) -> tuple[str, str]:
    """Ids of workspace items are ``<workspace>/<path or name>``."""
    workspace, _, rest = id_.partition("/")
    return workspace, rest


@dataclass(frozen=True)
class Connection:
    """Where Windmill resources send their calls: the program builds one from its settings.

    ``url`` and ``token`` may be Outputs (a domain stack reads them from the platform stack
    through a StackReference); the token is always stored as a secret. Timeouts left None take
    the provider's defaults. ``identity`` names the user the token belongs to when the program
    knows it (first boot's automation user), so tokens minted for the stack follow an owner change.
    """

    url: pulumi.Input[str] | None = None
    token: pulumi.Input[str] | None = None
    connect_timeout_seconds: pulumi.Input[float] | None = None
    read_timeout_seconds: pulumi.Input[float] | None = None
    identity: pulumi.Input[str] | None = None

    def props(self) -> dict[str, Any]:
        props: dict[str, Any] = {"api_url": self.url}
        if self.token is not None:
            props["api_token"] = pulumi.Output.secret(self.token)
        if self.identity is not None:
            props["api_identity"] = self.identity
        if self.connect_timeout_seconds is not None:
            props["api_connect_timeout_seconds"] = self.connect_timeout_seconds
        if self.read_timeout_seconds is not None:
            props["api_read_timeout_seconds"] = self.read_timeout_seconds
        return props


class WindmillResource(pulumi.dynamic.Resource):
    """Program-side base of Windmill resources, built from the provider's declaration.

    ``class Folder(WindmillResource, provider=FolderProvider)`` gets the type token
    ``pulumi-python:dynamic/windmill:Folder``, an output annotation per declared field and the
    constructor ``Folder(resource_name, args: FolderArgs, opts=None, connection=None)``.
    Secret inputs are wrapped as Pulumi secrets, and secret outputs listed as such.
    """

    provider_class: ClassVar[type[WindmillProvider]]

    def __init_subclass__(cls, provider: type[WindmillProvider] | None = None, **kwargs: Any) -> None:
        if provider is not None:
            cls.provider_class = provider
            declaration = provider.declaration
            cls.__annotations__ = {**declaration.annotations(), **inspect.get_annotations(cls)}
            kwargs = {"module": "windmill", "name": declaration.type_name, **kwargs}
        super().__init_subclass__(**kwargs)

    def secret_inputs(self, args: Any) -> set[str]:
        """Inputs to store as Pulumi secrets (a subclass may decide per value)."""
        return {spec.name for spec in self.provider_class.declaration.inputs if spec.secret}

    def before_register(self, resource_name: str, args: Any) -> None:
        """Program-time checks that need more than one resource (e.g. path claims)."""

    @leaves_pickler_as_found  # the SDK's serializer leaks a pickler patch per registration
    def __init__(
        self,
        resource_name: str,
        args: Any,
        opts: pulumi.ResourceOptions | None = None,
        connection: Connection | None = None,
    ) -> None:
        declaration = self.provider_class.declaration
        self.before_register(resource_name, args)
        props = declaration.props(args)
        secret_inputs = self.secret_inputs(args)
        for name in secret_inputs:
            if props.get(name) is not None:
                props[name] = pulumi.Output.secret(props[name])
        if connection is not None:
            props.update(connection.props())
        # Re-marking by the engine only covers outputs whose same-named input was secret;
        # output-only values (ciphertexts, tokens) need to be listed explicitly (docs/pulumi-notes.md §7).
        secret_outputs = ["api_token", *sorted(secret_inputs), *(f.name for f in declaration.outputs if f.secret)]
        secret = pulumi.ResourceOptions(additional_secret_outputs=secret_outputs)
        super().__init__(self.provider_class(), resource_name, props, pulumi.ResourceOptions.merge(opts, secret))
