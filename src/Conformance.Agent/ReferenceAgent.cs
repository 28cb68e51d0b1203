using System.Text.Json.Nodes;
using Conformance.Agent.Connections;
using Conformance.Agent.Core;
using Conformance.Agent.DidExchange;
using Conformance.Agent.Mediation;
using Conformance.Agent.Misbehaviour;
using Conformance.Agent.OutOfBand;
using Conformance.Agent.ProblemReport;
using Conformance.Agent.Storage;
using Conformance.Agent.Transport;
using Conformance.Agent.TrustPing;
using Conformance.Wire.Crypto;
using Conformance.Wire.Dids;
using Conformance.Wire.Envelopes;
using Conformance.Wire.Messages;

namespace Conformance.Agent;

/// <summary>
/// The reference agent: the harness's instrument. One object holds the wallet, the store, the protocols and the
/// inbound pipeline; the protocols live one per folder (OutOfBand/, Connections/, DidExchange/, TrustPing/,
/// ProblemReport/, Mediation/) and each reads top to bottom beside its RFC.
///
/// Inbound pipeline (<see cref="ReceiveAsync"/>): size check → RFC 0019 unpack with any key we hold → parse the
/// plaintext → tap → find the connection → hand to the protocol that handles the @type → a broken rule becomes a
/// problem report threaded to the offending message; anything unexpected becomes a processing-error report without
/// internals. The agent keeps serving whatever arrives.
/// </summary>
public sealed class ReferenceAgent : IAsyncDisposable
{
    private readonly List<IProtocolHandler> _handlers;

    public ReferenceAgent(AgentOptions? options = null, AgentStore? store = null)
    {
        Options = options ?? new AgentOptions();
        Entropy = Options.Seed is { } seed ? Entropy.Seeded(seed, Options.Label) : Entropy.System;
        Clock = Options.IsDeterministic ? AgentClock.Stepping(Options.DeterministicEpoch) : AgentClock.System;
        Store = store ?? (Options.DatabasePath is { } db ? AgentStore.OpenSqlite(db) : AgentStore.InMemory());
        Wallet = new Wallet(Store, Entropy.Derive("keys"));
        Ids = Entropy.Derive("ids");
        Resolver = new DidResolver();
        Outbound = new Outbound(this);
        ProblemReports = new ProblemReports(this);
        TrustPing = new TrustPingProtocol(this);
        OutOfBand = new OutOfBandProtocol(this);
        Connections = new ConnectionsProtocol(this);
        DidExchange = new DidExchangeProtocol(this);
        Mediation = new MediationProtocol(this);
        _handlers = [OutOfBand, Connections, DidExchange, TrustPing, Mediation, ProblemReports];
    }

    public AgentOptions Options { get; }
    public Entropy Entropy { get; }
    /// <summary>Where message ids come from (a separate stream so that adding a key does not shift every id).</summary>
    public Entropy Ids { get; }
    public AgentClock Clock { get; }
    public AgentStore Store { get; }
    public Wallet Wallet { get; }
    public DidResolver Resolver { get; }
    public Outbound Outbound { get; }
    public MisbehaviourPlan Misbehaviour { get; } = new();

    public ProblemReports ProblemReports { get; }
    public TrustPingProtocol TrustPing { get; }
    public OutOfBandProtocol OutOfBand { get; }
    public ConnectionsProtocol Connections { get; }
    public DidExchangeProtocol DidExchange { get; }
    public MediationProtocol Mediation { get; }

    /// <summary>Every message sent or received, envelope and plaintext (the wire tap hooks here).</summary>
    public event Action<WireEvent>? Wire;

    /// <summary>State changes and received messages.</summary>
    public event Action<AgentEvent>? Events;

    /// <summary>Debug log: internals (stack traces) go here and nowhere else.</summary>
    public Action<string>? DebugLog { get; set; }

    /// <summary>The agent's public DID (for implicit invitations), served as did:web from its own HTTP server.</summary>
    public PublicDid? PublicDid { get; set; }

    /// <summary>Every endpoint the agent's host listens on, by scheme ("http", "ws"); the advertised ones are <see cref="AgentOptions.Endpoints"/>.</summary>
    public Dictionary<string, string> ListeningEndpoints { get; } = [];

    /// <summary>The endpoints advertised when the agent started (what an AATH agent/start without parameters restores).</summary>
    public List<string> DefaultEndpoints { get; } = [];

    /// <summary>The endpoint this agent advertises first, or null for an edge agent without an endpoint.</summary>
    public string? Endpoint => Options.Endpoints.FirstOrDefault();

    public string NewId() => Ids.NewUuid();

    internal void Emit(WireEvent e) => Wire?.Invoke(e);
    internal void Emit(AgentEvent e) => Events?.Invoke(e);
    internal void Debug(string line) => DebugLog?.Invoke(line);

    /// <summary>Moves a connection to a new state, saves it and tells listeners.</summary>
    public void Transition(ConnectionRecord c, string state)
    {
        c.MoveTo(state, Clock.Now());
        Store.Save(c);
        Emit(new AgentEvent(AgentEvent.ConnectionState, c.Id, c.ThreadId));
    }

    // ------------------------------------------------------------------ inbound

    /// <summary>Processes one inbound transport body (an RFC 0019 envelope).</summary>
    public async Task<InboundResult> ReceiveAsync(ReadOnlyMemory<byte> body, IInboundSession? session, CancellationToken ct = default)
    {
        if (body.Length > Options.MaxInboundBytes)
            return Reject(body, session, InboundOutcome.TooLarge, $"message of {body.Length} bytes exceeds the {Options.MaxInboundBytes}-byte limit");

        UnpackedMessage unpacked;
        try
        {
            unpacked = Rfc0019.Unpack(body.Span, Wallet.Find);
        }
        catch (EnvelopeException e)
        {
            return Reject(body, session, InboundOutcome.Rejected, "envelope rejected: " + e.Message);
        }

        AgentMessage message;
        try
        {
            message = AgentMessage.Parse(unpacked.Plaintext);
        }
        catch (MessageFormatException e)
        {
            // We can only answer if we know where the sender lives (an existing connection).
            var conn = unpacked.SenderVerkey is { } s ? FindConnectionByKeys(unpacked.RecipientVerkey, s) : null;
            Emit(new WireEvent(Clock.Now(), "in", null, null, System.Text.Encoding.UTF8.GetString(body.Span), session?.Transport, null,
                unpacked.SenderVerkey, unpacked.RecipientVerkey, conn?.Id, "rejected: " + e.Message));
            if (conn != null)
                await ProblemReports.SendGenericAsync(conn, "message-parse-failure", "the message could not be parsed: " + e.Message, null, ct);
            return new InboundResult(InboundOutcome.Rejected, "message rejected: " + e.Message);
        }

        var inbound = new InboundMessage
        {
            Message = message,
            SenderVerkey = unpacked.SenderVerkey,
            RecipientVerkey = unpacked.RecipientVerkey,
            Session = session,
            Envelope = body.ToArray(),
        };
        if (session != null && message.ReturnRoute is { } rr)
        {
            session.ReturnRoute = rr;
            session.ReturnRouteThread = message.ThreadId;
            if (unpacked.SenderVerkey != null) Outbound.RegisterReturnRoute(unpacked.SenderVerkey, session);
        }
        inbound.Connection = unpacked.SenderVerkey is { } sender ? FindConnectionByKeys(unpacked.RecipientVerkey, sender) : null;

        Emit(new WireEvent(Clock.Now(), "in", message.Type.ToString(), message.Json, System.Text.Encoding.UTF8.GetString(body.Span),
            session?.Transport, null, unpacked.SenderVerkey, unpacked.RecipientVerkey, inbound.Connection?.Id));

        await DispatchAsync(inbound, ct);
        return inbound.Result ?? InboundResult.Ok;
    }

    /// <summary>Hands a parsed message to its protocol; turns failures into problem reports.</summary>
    public async Task DispatchAsync(InboundMessage inbound, CancellationToken ct)
    {
        var type = inbound.Message.Type;
        var handler = _handlers.FirstOrDefault(h => h.Handles(type));
        try
        {
            if (handler == null)
            {
                if (inbound.Connection != null)
                {
                    // Any message on a connection counts as the RFC 0160 ack.
                    CountAsAck(inbound.Connection, type);
                    Emit(new AgentEvent(AgentEvent.MessageReceived, inbound.Connection.Id, inbound.Message.ThreadId, inbound.Message.Json));
                    await ProblemReports.SendGenericAsync(inbound.Connection, "unsupported-message-type",
                        $"message type {type} is not supported by this agent", inbound.Message.Id, ct);
                }
                return;
            }
            if (inbound.Connection != null) CountAsAck(inbound.Connection, type);
            await handler.HandleAsync(inbound, ct);
        }
        catch (ProblemReportException p)
        {
            await ProblemReports.SendAsync(inbound, p, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Debug($"unexpected error handling {type}: {e}");
            await ProblemReports.SendAsync(inbound, new ProblemReportException(type.Protocol + "/" + type.Major + "." + type.Minor,
                ProcessingErrorCode(type), "internal processing error", inbound.Message.ThreadId, inbound.Message.ParentThreadId, inbound.Connection), ct);
        }
    }

    /// <summary>
    /// RFC 0160 §3: any message on a connection confirms it ("Receipt of a message puts the inviter into the complete
    /// state") — except a problem report, which confirms nothing.
    /// </summary>
    private void CountAsAck(ConnectionRecord c, MessageType type)
    {
        if (!ProblemReports.IsProblemReport(type)) Connections.OnAnyMessage(c);
    }

    private static string ProcessingErrorCode(MessageType t) => t.Name switch
    {
        "request" => "request_processing_error",
        "response" => "response_processing_error",
        _ => "processing-error",
    };

    private InboundResult Reject(ReadOnlyMemory<byte> body, IInboundSession? session, InboundOutcome outcome, string why)
    {
        var text = body.Length <= 64 * 1024 ? System.Text.Encoding.UTF8.GetString(body.Span) : $"<{body.Length} bytes>";
        Emit(new WireEvent(Clock.Now(), "in", null, null, text, session?.Transport, null, null, null, null, "rejected: " + why));
        return new InboundResult(outcome, why);
    }

    /// <summary>
    /// The connection a message from <paramref name="theirVerkey"/> to <paramref name="myVerkey"/> belongs to: among the
    /// connections on our key (an index lookup, not a scan), the one whose service lists their key, else one whose DID
    /// document does (only then is a document parsed).
    /// </summary>
    public ConnectionRecord? FindConnectionByKeys(string myVerkey, string theirVerkey) =>
        Store.FindConnectionByMyVerkey(myVerkey, c => c.TheirService != null && c.TheirService.RecipientKeys.Contains(theirVerkey))
        ?? Store.FindConnectionByMyVerkey(myVerkey, c => TheirKeysFromDoc(c).Contains(theirVerkey));

    private static IEnumerable<string> TheirKeysFromDoc(ConnectionRecord c)
    {
        if (c.TheirDidDoc == null) return [];
        try { return DidDocument.FromJson(c.TheirDidDoc).DidCommServices().SelectMany(s => s.RecipientKeys); }
        catch (DidException) { return []; }
    }

    // ------------------------------------------------------------------ helpers for protocols

    /// <summary>Creates a message of the given type with a fresh @id.</summary>
    public AgentMessage NewMessage(string typeUri) => AgentMessage.Create(MessageType.Parse(typeUri), NewId());

    public ValueTask DisposeAsync()
    {
        Outbound.Dispose();
        Store.Dispose();
        return ValueTask.CompletedTask;
    }
}
