namespace Conformance.Agent.Core;

/// <summary>How a reference agent instance is configured. Plain settable properties; no DI container.</summary>
public sealed class AgentOptions
{
    /// <summary>The label this agent presents in invitations and requests.</summary>
    public string Label { get; set; } = "Conformance Reference Agent";

    /// <summary>Accept requests/invitations automatically (default) or wait for an explicit accept (manual).</summary>
    public bool AutoAccept { get; set; } = true;

    /// <summary>
    /// Deterministic mode: one seed fixes keys, message ids, timestamps and nonces, so the same flow produces
    /// byte-identical messages (needed for golden fixtures). Null = system randomness and clock.
    /// </summary>
    public string? Seed { get; set; }

    /// <summary>Clock start for deterministic mode.</summary>
    public DateTimeOffset DeterministicEpoch { get; set; } = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Public DIDComm endpoints this agent advertises (http://…, ws://…). Empty = an edge agent with no endpoint (uses return-route).</summary>
    public List<string> Endpoints { get; } = [];

    /// <summary>Act as a mediator: grant mediation (RFC 0211) automatically and queue forwards for granted keys.</summary>
    public bool Mediator { get; set; }

    /// <summary>SQLite file for durable storage; null = in-memory.</summary>
    public string? DatabasePath { get; set; }

    /// <summary>Which DID method this agent uses for its own side of a didexchange ("peer:1", "peer:2", "peer:4", "unqualified").</summary>
    public string DidExchangeDidMethod { get; set; } = "peer:4";

    /// <summary>Which didexchange minor version the agent speaks when it starts a didexchange (request) or invites.</summary>
    public string DidExchangeVersion { get; set; } = "1.1";

    /// <summary>Time an outbound HTTP/WS delivery may take.</summary>
    public TimeSpan OutboundTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Largest inbound message accepted, in bytes.</summary>
    public int MaxInboundBytes { get; set; } = 4 * 1024 * 1024;

    public bool IsDeterministic => Seed is not null;
}
