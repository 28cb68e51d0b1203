using System.Text.Json.Nodes;
using Conformance.Wire.Messages;

namespace Conformance.Agent.Core;

/// <summary>A decrypted inbound message with what the envelope told us about it.</summary>
public sealed class InboundMessage
{
    public required AgentMessage Message { get; init; }
    /// <summary>Sender verkey (base58) for authcrypt; null for anoncrypt.</summary>
    public required string? SenderVerkey { get; init; }
    /// <summary>Our verkey the envelope was addressed to.</summary>
    public required string RecipientVerkey { get; init; }
    /// <summary>The connection the message arrived on, if sender and recipient keys match one.</summary>
    public ConnectionRecord? Connection { get; set; }
    /// <summary>The transport session it arrived on (for return-route replies); null when not replyable.</summary>
    public IInboundSession? Session { get; init; }
    public required byte[] Envelope { get; init; }
    /// <summary>
    /// Set by a handler that refuses the message at the transport level (e.g. a forward for a key nobody registered):
    /// the pipeline returns it instead of <see cref="InboundResult.Ok"/>, so the HTTP transport answers 400 with the reason.
    /// </summary>
    public InboundResult? Result { get; set; }
}

/// <summary>An open inbound transport on which replies can travel back (RFC 0092 return-route).</summary>
public interface IInboundSession
{
    /// <summary>"http" or "ws".</summary>
    string Transport { get; }
    /// <summary>The return_route the peer asked for on this session ("none", "all", "thread").</summary>
    string ReturnRoute { get; set; }
    /// <summary>The thread id for return_route "thread".</summary>
    string? ReturnRouteThread { get; set; }
    bool IsOpen { get; }
    /// <summary>Sends one packed envelope back on this session. Returns false if the session cannot carry it (closed, or an HTTP response already used).</summary>
    Task<bool> TrySendAsync(byte[] envelope, CancellationToken ct);
}

/// <summary>What happened to an inbound body, for the transport to map onto a status code.</summary>
public enum InboundOutcome { Accepted, Rejected, TooLarge }

public sealed record InboundResult(InboundOutcome Outcome, string? Error = null)
{
    public static readonly InboundResult Ok = new(InboundOutcome.Accepted);
}

/// <summary>One message on the wire, as seen by the reference side: both the envelope and the plaintext.</summary>
public sealed record WireEvent(
    DateTimeOffset At,
    string Direction,            // "in" | "out"
    string? Type,                // @type of the plaintext
    JsonObject? Plaintext,
    string? Envelope,            // the packed envelope exactly as sent/received (null if none, e.g. rejected before parse)
    string? Transport,           // "http" | "ws" | "return-route" | "queue"
    string? Endpoint,
    string? SenderVerkey,
    string? RecipientVerkey,
    string? ConnectionId,
    string? Note = null,         // e.g. "rejected: ..." or the HTTP status
    long? SentTimestamp = null); // Stopwatch.GetTimestamp() when sending began, for an event raised once the send
                                 // finished (an HTTP POST and its status): the wire log orders it by this moment

/// <summary>Something a test or the backchannel may want to wait for.</summary>
public sealed record AgentEvent(string Kind, string? ConnectionId, string? ThreadId, JsonObject? Message = null)
{
    public const string ConnectionState = "connection-state";
    public const string MessageReceived = "message-received";
    public const string ProblemReportReceived = "problem-report-received";
    public const string TrustPingResponse = "trust-ping-response";
    public const string MediationState = "mediation-state";
    public const string ReuseAccepted = "handshake-reuse-accepted";
}

/// <summary>One protocol's message handling: the agent asks each in turn whether it handles a message type.</summary>
public interface IProtocolHandler
{
    bool Handles(MessageType type);
    Task HandleAsync(InboundMessage inbound, CancellationToken ct);
}

/// <summary>
/// A protocol rule was broken by the other side. The agent turns it into a problem report of the given family
/// (e.g. "connections/1.0") with the code, threaded to the offending message; the protocol's state is left as it was
/// unless the handler changed it on purpose.
/// </summary>
public sealed class ProblemReportException(string family, string code, string explain, string? thid = null, string? pthid = null, ConnectionRecord? connection = null)
    : Exception(explain)
{
    /// <summary>Where to send the report when there is no connection yet (e.g. the service in a rejected request's DID doc).</summary>
    public ServiceRecord? ReplyTo { get; init; }
    public string Family { get; } = family;
    public string Code { get; } = code;
    public string Explain { get; } = explain;
    public string? ThreadId { get; } = thid;
    public string? ParentThreadId { get; } = pthid;
    public ConnectionRecord? Connection { get; } = connection;
}
