using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Conformance.Agent.Core;
using Conformance.Agent.OutOfBand;
using Conformance.Agent.ProblemReport;
using Conformance.Wire.Dids;
using Conformance.Wire.Envelopes;
using Conformance.Wire.Messages;

namespace Conformance.Agent.Tests.OutOfBand;

/// <summary>
/// An in-process reference agent without a transport, and the events it emitted. Without an endpoint, whatever it
/// sends to an endpoint-less peer lands in its own queue (Outbound: "No usable endpoint ... hold it for the recipient
/// to pick up"), where <see cref="Courier"/> collects it. That lets a test look at every envelope and carry it by hand.
/// </summary>
internal sealed class Peer : IAsyncDisposable
{
    public Peer(string label, Action<AgentOptions>? configure = null)
    {
        var o = new AgentOptions { Label = label };
        configure?.Invoke(o);
        Agent = new ReferenceAgent(o);
        Agent.Events += e => Events.Enqueue(e);
        Agent.DebugLog = line => TestContext.Progress.WriteLine($"[{label}] {line}");
    }

    public ReferenceAgent Agent { get; }
    public OutOfBandProtocol Oob => Agent.OutOfBand;
    public ConcurrentQueue<AgentEvent> Events { get; } = new();

    public List<AgentEvent> EventsOf(string kind) => Events.Where(e => e.Kind == kind).ToList();

    public ValueTask DisposeAsync() => Agent.DisposeAsync();
}

/// <summary>One envelope carried from one peer to another: as opened, as parsed, and the connection it matched.</summary>
internal sealed record Carried(UnpackedMessage Envelope, AgentMessage Message, ConnectionRecord? Connection)
{
    public JsonObject Json => Message.Json;
}

internal static class Courier
{
    /// <summary>
    /// Takes what <paramref name="from"/> queued for <paramref name="recipientKey"/>, opens each envelope with
    /// <paramref name="to"/>'s wallet (so it proves the envelope was encrypted to that key) and hands the message to
    /// <paramref name="to"/>'s handler for its type, turning a <see cref="ProblemReportException"/> into a report as the
    /// pipeline does. (The pipeline itself also runs the RFC 0160 "any message is an ack" hook of the connections
    /// protocol, which another helper implements; the out-of-band and trust ping handlers are called directly.)
    /// </summary>
    public static async Task<List<Carried>> CarryAsync(Peer from, Peer to, string recipientKey, bool deliver = true)
    {
        var queued = from.Agent.Store.Peek([recipientKey], 100);
        from.Agent.Store.Remove([recipientKey], queued.Select(q => q.MessageId).ToList());
        var carried = new List<Carried>();
        foreach (var q in queued)
        {
            var unpacked = Rfc0019.Unpack(q.Envelope, to.Agent.Wallet.Find);
            var message = AgentMessage.Parse(unpacked.Plaintext);
            var inbound = new InboundMessage
            {
                Message = message,
                SenderVerkey = unpacked.SenderVerkey,
                RecipientVerkey = unpacked.RecipientVerkey,
                Envelope = q.Envelope,
            };
            inbound.Connection = unpacked.SenderVerkey is { } s ? to.Agent.FindConnectionByKeys(unpacked.RecipientVerkey, s) : null;
            carried.Add(new Carried(unpacked, message, inbound.Connection));
            if (!deliver) continue;

            IProtocolHandler? handler =
                to.Agent.OutOfBand.Handles(message.Type) ? to.Agent.OutOfBand
                : to.Agent.TrustPing.Handles(message.Type) ? to.Agent.TrustPing
                : ProblemReports.IsProblemReport(message.Type) ? to.Agent.ProblemReports
                : null;
            if (handler == null) continue;
            try { await handler.HandleAsync(inbound, CancellationToken.None); }
            catch (ProblemReportException p) { await to.Agent.ProblemReports.SendAsync(inbound, p, CancellationToken.None); }
        }
        return carried;
    }

    /// <summary>The one envelope <paramref name="from"/> queued for <paramref name="recipientKey"/>, carried; fails otherwise.</summary>
    public static async Task<Carried> CarryOneAsync(Peer from, Peer to, string recipientKey, bool deliver = true)
    {
        var all = await CarryAsync(from, to, recipientKey, deliver);
        Assert.That(all, Has.Count.EqualTo(1), $"{from.Agent.Options.Label} should have queued exactly one message for {recipientKey}");
        return all[0];
    }

    public static int Queued(Peer p, string recipientKey) => p.Agent.Store.QueueCount([recipientKey]);
}

internal static class Handshake
{
    /// <summary>
    /// Stands in for a completed handshake through <paramref name="invitation"/> (didexchange and connections are
    /// implemented by other helpers): a pair of records in state <c>completed</c>, each with a fresh key and a service
    /// pointing at the other's key (no endpoint: messages queue), and the invitee's record naming the invitation and
    /// its key, as the handshake protocols record them.
    /// </summary>
    public static (ConnectionRecord Inviter, ConnectionRecord Invitee) ByHand(Peer inviter, Peer invitee, InvitationRecord invitation)
    {
        var ki = inviter.Agent.Wallet.CreateKey();
        var ke = invitee.Agent.Wallet.CreateKey();
        ConnectionRecord Record(Peer owner, Peer other, ConnectionRole role, string mine, string theirs) => new()
        {
            Id = owner.Agent.NewId(),
            Protocol = "didexchange/1.1",
            Role = role,
            InvitationId = invitation.Id,
            InvitationKey = invitation.RecipientKey,
            Invitation = (JsonObject)invitation.Invitation.DeepClone(),
            ParentThreadId = invitation.Id,
            MyDid = DidKey.FromVerkey(mine),
            MyVerkey = mine,
            TheirDid = DidKey.FromVerkey(theirs),
            TheirLabel = other.Agent.Options.Label,
            TheirService = new ServiceRecord { RecipientKeys = [theirs], Endpoint = "didcomm:transport/queue" },
            CreatedAt = owner.Agent.Clock.Now(),
        };
        var a = Record(inviter, invitee, ConnectionRole.Inviter, ki.Verkey, ke.Verkey);
        var b = Record(invitee, inviter, ConnectionRole.Invitee, ke.Verkey, ki.Verkey);
        foreach (var (peer, c) in new[] { (inviter, a), (invitee, b) })
        {
            foreach (var s in new[] { "start", "completed" }) c.MoveTo(s, peer.Agent.Clock.Now());
            peer.Agent.Store.Save(c);
        }
        return (a, b);
    }
}

internal static class Oob
{
    /// <summary>A trust ping as a requests~attach payload (RFC 0048 §ping).</summary>
    public static JsonObject Ping(string id, bool? responseRequested = null)
    {
        var p = new JsonObject { ["@type"] = "https://didcomm.org/trust_ping/1.0/ping", ["@id"] = id, ["comment"] = "hi" };
        if (responseRequested is { } r) p["response_requested"] = r;
        return p;
    }

    public static JsonObject BasicMessage(string id, string content) => new()
    {
        ["@type"] = "https://didcomm.org/basicmessage/1.0/message",
        ["@id"] = id,
        ["sent_time"] = "2024-01-01T00:00:00Z",
        ["content"] = content,
    };

    public static string[] Strings(JsonNode? array) => ((JsonArray)array!).Select(n => n!.GetValue<string>()).ToArray();
}
