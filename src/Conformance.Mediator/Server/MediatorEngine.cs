using System.Text.Json.Nodes;
using Conformance.Wire.DidComm2;

namespace Conformance.Mediator;

/// <summary>What became of one inbound message, for the transport to turn into a status code.</summary>
internal enum InboundOutcome
{
    /// <summary>Processed; nothing (more) to send back on this request (HTTP 202).</summary>
    Accepted,
    /// <summary>A reply went back on the channel (HTTP 200 with the envelope).</summary>
    Replied,
    /// <summary>Not a usable DIDComm message and nobody to address a problem report to (HTTP 400 + one-line error).</summary>
    Rejected,
    /// <summary>Larger than <see cref="MediatorOptions.MaxMessageBytes"/> (HTTP 413).</summary>
    TooLarge,
}

internal readonly record struct InboundResult(InboundOutcome Outcome, string? Error = null, string? Code = null);

/// <summary>One decrypted inbound message and where its replies may go.</summary>
internal sealed class Inbound
{
    public required V2Unpacked Unpacked { get; init; }
    public required IReplyChannel Channel { get; init; }
    public required CancellationToken Ct { get; init; }
    public V2Message Message => Unpacked.Message;

    /// <summary>The authenticated sender (authcrypt skid DID or JWS signer), or null when anonymous.</summary>
    public string? Sender => Unpacked.SenderDid;

    public ReplayKey ReplayKey => new(Sender ?? "", Message.Id);

    /// <summary>problems.md <c>trust</c>: "a protocol required a known sender but a message arrived anoncrypted instead".</summary>
    public string RequireSender() => Sender ?? throw new DidCommException(ProblemCodes.Trust, Message.Type);
}

/// <summary>
/// The transport-independent core of the mediator: unpack, check, dispatch to the protocol handlers in
/// <c>Protocols/</c>, and route the reply (didcomm-v2 return_route extension; Identus "Problem Reports in Mediator flow":
/// replies are synchronous when asked for, otherwise sent to the sender's DIDCommMessaging endpoint).
/// <list type="number">
/// <item>Unpack every layer (<see cref="V2Packer.Unpack"/>). A failure there is answered with a problem report when the
/// envelope names a sender we can encrypt to (G5B "(sync!) Send a problem report e.p.crypto"), otherwise rejected at the
/// transport (HTTP 400 with one line, or a signed problem report on a WebSocket).</item>
/// <item>Plaintext-only messages are refused (the mediator only takes encrypted or signed messages).</item>
/// <item><c>expires_time</c> in the past → <see cref="ProblemCodes.Expired"/>.</item>
/// <item>Replay: the (sender, id) pair is recorded atomically with the message's effect; a second arrival →
/// <see cref="ProblemCodes.Dejavu"/> (Identus G1C), and nothing is done twice.</item>
/// <item>Dispatch by type; an unknown type or version → <see cref="ProblemCodes.Unsupported"/> (G2B/G3).</item>
/// </list>
/// </summary>
internal sealed class MediatorEngine
{
    private readonly MediatorOptions _options;
    private readonly Outbound _outbound;

    public MediatorEngine(MediatorOptions options, V2Identity identity, IReadOnlyCollection<string> ownDids, IMessageQueue queue,
        IMediationStore mediation, Outbound outbound)
    {
        _options = options;
        Identity = identity;
        OwnDids = ownDids;
        Queue = queue;
        Mediation = mediation;
        _outbound = outbound;
    }

    public V2Identity Identity { get; }
    public IReadOnlyCollection<string> OwnDids { get; }
    public IMessageQueue Queue { get; }
    public IMediationStore Mediation { get; }
    public LiveRegistry Live { get; } = new();
    public MediatorOptions Options => _options;
    public MediatorCounters Counters { get; } = new();
    public V2Resolver Resolver { get; } = V2Resolver.Shared;

    /// <summary>Our private X25519 key for a recipient kid: <c>#key-1</c> of the current DID or of a DID we had before a
    /// restart on other endpoints (the keys are the same; only the service part of the did:peer:2 changed).</summary>
    public Wire.DidComm2.OkpKey? OwnKey(string kid)
    {
        var hash = kid.IndexOf('#');
        if (hash <= 0 || kid.AsSpan(hash + 1) is not "key-1") return null;
        return OwnDids.Contains(kid[..hash]) ? Identity.Agreement : null;
    }

    public void Log(string line) => _options.Log?.Invoke(line);

    // ================================================================== inbound

    public async Task<InboundResult> ReceiveAsync(byte[] body, IReplyChannel channel, CancellationToken ct)
    {
        if (body.Length > _options.MaxMessageBytes)
            return new InboundResult(InboundOutcome.TooLarge, $"the message is larger than {_options.MaxMessageBytes} bytes", ProblemCodes.TooBig);

        V2Unpacked unpacked;
        try
        {
            unpacked = V2Packer.Unpack(body, OwnKey, Resolver, OwnDids);
        }
        catch (DidCommException e)
        {
            Counters.CountRejected();
            Log($"rejected inbound {channel.Transport} message: {e.Code}: {e.Message}");
            return await RejectAsync(e, channel, ct);
        }

        if (unpacked.Outer == EnvelopeKind.Plaintext)
        {
            Counters.CountRejected();
            return new InboundResult(InboundOutcome.Rejected, "plaintext messages are not accepted: encrypt (or sign) the message for the mediator", ProblemCodes.Trust);
        }

        var inbound = new Inbound { Unpacked = unpacked, Channel = channel, Ct = ct };
        var m = unpacked.Message;
        // return_route on a WebSocket is sticky: "once per established websocket".
        if (channel.Transport == "ws" && m.ReturnRoute is { } rr) channel.ReturnRouteAll = rr is "all" or "thread";

        V2Message? reply;
        try
        {
            if (m.ExpiresTime is { } exp && exp < DateTimeOffset.UtcNow.ToUnixTimeSeconds())
                throw new DidCommException(ProblemCodes.Expired, DateTimeOffset.FromUnixTimeSeconds(exp).ToString("u"));
            reply = await DispatchAsync(inbound);
        }
        catch (DidCommException e)
        {
            Counters.CountProblem();
            Log($"problem report {e.Code} for {m.Type} {m.Id}: {e.Message}");
            reply = ProblemReport(inbound, e.Code, e.Message);
        }
        catch (StorageException e)
        {
            Counters.CountProblem();
            Log($"storage failure on {m.Type} {m.Id}: {e.Message}");
            reply = ProblemReport(inbound, ProblemCodes.Storage, null);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Counters.CountProblem();
            Log($"internal error on {m.Type} {m.Id}: {e.GetType().Name}: {e.Message}");
            reply = ProblemReport(inbound, ProblemCodes.Internal, null);
        }
        if (reply is null) return new InboundResult(InboundOutcome.Accepted);
        return await SendReplyAsync(inbound, reply) ? new InboundResult(InboundOutcome.Replied) : new InboundResult(InboundOutcome.Accepted);
    }

    private async Task<V2Message?> DispatchAsync(Inbound inbound)
    {
        var m = inbound.Message;
        // Forward and messages-received record their replay key atomically with their effect (in the store).
        if (m.Type is not (MessageTypes.Forward or MessageTypes.MessagesReceived))
        {
            if (!await Queue.TryMarkSeenAsync(inbound.ReplayKey, inbound.Ct))
                throw new DidCommException(ProblemCodes.Dejavu, m.Id);
        }
        return m.Type switch
        {
            MessageTypes.Forward => await RoutingProtocol.ForwardAsync(this, inbound),
            MessageTypes.MediateRequest or MessageTypes.KeylistUpdate or MessageTypes.KeylistQuery
                => await CoordinateMediationProtocol.HandleAsync(this, inbound),
            MessageTypes.StatusRequest or MessageTypes.DeliveryRequest or MessageTypes.MessagesReceived or MessageTypes.LiveDeliveryChange
                => await PickupProtocol.HandleAsync(this, inbound),
            MessageTypes.Ping => TrustPingProtocol.Handle(this, inbound),
            MessageTypes.PingResponse => null,
            MessageTypes.Queries => DiscoverFeaturesProtocol.Handle(this, inbound),
            MessageTypes.BasicMessageMessage => BasicMessageProtocol.Handle(this, inbound),
            MessageTypes.ProblemReport => ReportProblemProtocol.Receive(this, inbound),
            _ => throw new DidCommException(ProblemCodes.Unsupported, m.Type),
        };
    }

    // ================================================================== replies

    /// <summary>A reply on the inbound message's thread, from the mediator, to the sender (when there is one).</summary>
    public V2Message Reply(Inbound inbound, string type, JsonObject body, IReadOnlyList<V2Attachment>? attachments = null) => new()
    {
        Id = _options.Entropy.NewUuid(),
        Type = type,
        From = Identity.Did,
        To = ReplyTarget(inbound) is { } to ? [to] : null,
        Thid = inbound.Message.ThreadId,
        CreatedTime = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
        Body = body,
        Attachments = attachments ?? [],
    };

    /// <summary>Who a reply is encrypted to: the authenticated sender, else the unauthenticated <c>from</c> (only its owner
    /// can read it), else nobody (the reply is signed instead).</summary>
    private static string? ReplyTarget(Inbound inbound) => inbound.Sender ?? inbound.Message.From;

    /// <summary>report-problem 2.0: <c>pthid</c> "REQUIRED. The value is the thid of the thread in which the problem
    /// occurred"; <c>ack</c> "SHOULD be included if the problem in question was triggered directly by a preceding message".</summary>
    public V2Message ProblemReport(Inbound? inbound, string code, string? detail, string? to = null)
    {
        var comment = ProblemCodes.CommentFor(code);
        var body = new JsonObject { ["code"] = code, ["comment"] = comment };
        if (comment.Contains("{1}")) body["args"] = new JsonArray(detail ?? "?");
        var headers = new JsonObject();
        if (inbound is not null) headers["ack"] = new JsonArray(inbound.Message.Id);
        var target = to ?? (inbound is null ? null : ReplyTarget(inbound));
        return new V2Message
        {
            Id = _options.Entropy.NewUuid(),
            Type = MessageTypes.ProblemReport,
            From = Identity.Did,
            To = target is null ? null : [target],
            Pthid = inbound?.Message.ThreadId ?? "?",
            CreatedTime = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            Body = body,
            Headers = headers,
        };
    }

    /// <summary>Authcrypt to the reply's <c>to</c>, or sign when it has none (Identus signs replies with no recipient).
    /// When the recipient's DID gives no key to encrypt to, the reply is signed (without <c>to</c>) instead.</summary>
    public (string Envelope, string MediaType) Pack(V2Message reply)
    {
        if (reply.To is { Count: > 0 } to)
        {
            try { return (V2Packer.Authcrypt(reply, Identity, to[0], _options.Entropy, Resolver), MediaTypes.Encrypted); }
            catch (DidCommException e)
            {
                Log($"cannot encrypt a {reply.Type} to {V2Resolver.Abbrev(to[0])}: {e.Message}; signing it instead");
                reply = new V2Message
                {
                    Id = reply.Id, Type = reply.Type, From = reply.From, Thid = reply.Thid, Pthid = reply.Pthid, CreatedTime = reply.CreatedTime,
                    ExpiresTime = reply.ExpiresTime, Body = reply.Body, Attachments = reply.Attachments, Headers = reply.Headers,
                };
            }
        }
        return (V2Packer.Sign(reply, Identity), MediaTypes.Signed);
    }

    /// <summary>
    /// return_route "all" (or "thread") on the message, or set earlier on this WebSocket → the reply goes back on the
    /// channel. Otherwise it is sent to the recipient's HTTP(S) endpoint; when there is none (or no recipient at all),
    /// it goes back on the channel anyway, since there is no other way to deliver it.
    /// </summary>
    private async Task<bool> SendReplyAsync(Inbound inbound, V2Message reply)
    {
        var (envelope, mediaType) = Pack(reply);
        var rr = inbound.Message.ReturnRoute;
        var sync = rr is "all" or "thread" || inbound.Channel.ReturnRouteAll;
        if (!sync && reply.To is { Count: > 0 } to && _outbound.CanDeliver(to[0]))
        {
            _outbound.Send(to[0], envelope, mediaType);
            return false;
        }
        return await inbound.Channel.TrySendAsync(envelope, mediaType, inbound.Ct);
    }

    /// <summary>A message that could not be unpacked. When the failing envelope named a sender DID, the problem report is
    /// encrypted to it and returned synchronously; otherwise HTTP rejects with one line, a WebSocket gets a signed report.</summary>
    private async Task<InboundResult> RejectAsync(DidCommException e, IReplyChannel channel, CancellationToken ct)
    {
        if (e.ReplyTo is { } to)
        {
            try
            {
                var (env, type) = Pack(ProblemReport(null, e.Code, e.Message, to));
                if (await channel.TrySendAsync(env, type, ct)) return new InboundResult(InboundOutcome.Replied);
            }
            catch (DidCommException) { /* the claimed sender does not resolve: fall through */ }
        }
        if (channel.Transport == "ws")
        {
            var (env, type) = Pack(ProblemReport(null, e.Code, e.Message));
            await channel.TrySendAsync(env, type, ct);
            return new InboundResult(InboundOutcome.Replied);
        }
        return new InboundResult(InboundOutcome.Rejected, e.Message, e.Code);
    }
}

/// <summary>Counters for the bench and for operators.</summary>
public sealed class MediatorCounters
{
    private long _forwards, _delivered, _problems, _rejected;
    public long Forwards => Interlocked.Read(ref _forwards);
    public long DeliveredLive => Interlocked.Read(ref _delivered);
    public long Problems => Interlocked.Read(ref _problems);
    public long Rejected => Interlocked.Read(ref _rejected);
    internal void CountForwarded(int n) => Interlocked.Add(ref _forwards, n);
    internal void CountLive(int n) => Interlocked.Add(ref _delivered, n);
    internal void CountProblem() => Interlocked.Increment(ref _problems);
    internal void CountRejected() => Interlocked.Increment(ref _rejected);
}
