// Aries RFC 0094 Cross-Domain Messaging §"Core:Routing:1.0:Forward" and RFC 0046 Mediators and Relays — the
// mediator's side of routing/1.0 forward.
// specs: shared/specs/aries-rfcs/0094-cross-domain-messaging/README.md, 0046-mediators-and-relays/README.md
//
// A forward reaches us anoncrypted to a routing key we handed out in a mediate-grant (the pipeline has already
// opened that envelope). RFC 0094 §"Required: Mediators Process Forward Messages": the mediator "decrypts the
// message's msg value to reveal the inner 'Forward' message" and uses "(implementation specific) knowledge to map
// from the `to` field to deliver the message to the physical endpoint of the next agent". Our knowledge is the
// keylist (RFC 0211): `to` must be a key a granted recipient registered.
//
// Nothing is lost silently:
//   1. the inner envelope is stored durably (AgentStore.Enqueue writes through to SQLite) before this handler
//      returns, i.e. before the HTTP response acknowledges the forward;
//   2. then delivered: live mode (RFC 0685) pushes a `delivery` that the recipient acknowledges with
//      messages-received; else (DirectDelivery) the envelope goes as is over an open return-route WebSocket or to
//      the recipient's endpoint and leaves the queue once delivered; else it waits for delivery-request;
//   3. a forward we cannot route is refused at the transport (HTTP 400 with the reason) and noted on the wire tap.
// RFC 0094: "When the Receiver Agent receives the message, it determines it is the target of the forward message,
// decrypts the payload and processes the message." — a forward whose `to` is one of our own keys is processed here.

using System.Text;
using Conformance.Agent.Core;
using Conformance.Wire.Envelopes;

namespace Conformance.Agent.Mediation;

public sealed partial class MediationProtocol
{
    private async Task OnForwardAsync(InboundMessage inbound, CancellationToken ct)
    {
        var m = inbound.Message;
        string to, inner;
        try
        {
            // "The `to` field is required"; `msg` must be an encrypted envelope (Rfc0094.Unwrap enforces both).
            (to, inner) = Rfc0094.Unwrap(m.Json);
        }
        catch (EnvelopeException e)
        {
            Refuse(inbound, "forward rejected: " + e.Message);
            throw new ProblemReportException(RoutingFamily, Codes.BadMessage, e.Message, m.ThreadId, null, inbound.Connection);
        }

        var verkey = TryVerkey(to);
        var envelope = Encoding.UTF8.GetBytes(inner);
        if (verkey != null && _agent.Wallet.Holds(verkey))
        {
            var result = await _agent.ReceiveAsync(envelope, inbound.Session, ct);
            if (result.Outcome != InboundOutcome.Accepted) inbound.Result = result;
            return;
        }

        MediationRecord? record;
        lock (_gate) record = verkey == null ? null : RegisteredBy(verkey);
        if (record == null)
        {
            var mediating = _agent.Options.Mediator || _agent.Store.Mediations().Any(r => r is { Role: RoleMediator, State: StateGranted });
            var (code, why) = mediating
                ? (Codes.UnknownRecipientKey, $"no recipient of this mediator registered the key '{JsonValues.Excerpt(to, 64)}' (RFC 0211 keylist-update)")
                : (Codes.NotAMediator, "this agent is not a mediator: it routes forward messages for no one");
            Refuse(inbound, "forward rejected: " + why);
            throw new ProblemReportException(RoutingFamily, code, why, m.ThreadId, null, inbound.Connection);
        }

        var queued = _agent.Store.Enqueue(verkey!, _agent.NewId(), envelope, _agent.Clock.Now());
        _agent.Emit(new WireEvent(_agent.Clock.Now(), "out", null, null, inner, "queue", null, null, verkey, record.ConnectionId,
            $"forward {m.Id}: queued as {queued.MessageId} for {to}"));

        if (_agent.Store.GetConnection(record.ConnectionId) is { } conn)
            await DeliverQueuedAsync(conn, queued, ct);
    }

    /// <summary>Refuses the message at the transport (HTTP 400 with <paramref name="why"/>) and notes it on the wire tap.</summary>
    private void Refuse(InboundMessage inbound, string why)
    {
        inbound.Result = new InboundResult(InboundOutcome.Rejected, why);
        Note(inbound, "rejected: " + why);
        _agent.Debug(why);
    }

    /// <summary>Delivers a message just queued for the recipient of <paramref name="conn"/>, if the recipient can take it now.</summary>
    private async Task DeliverQueuedAsync(ConnectionRecord conn, QueuedMessage queued, CancellationToken ct)
    {
        // RFC 0685 §Live Mode: "messages that arrive when an existing connection exists are delivered over the
        // connection immediately". As a `delivery` (as Credo does), so the recipient acknowledges it with
        // messages-received and a push lost with a dying socket is still in the queue.
        if (LiveSession(conn.Id) is { } live)
        {
            try
            {
                await PushLiveAsync(conn, live, [queued], ct);
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _agent.Debug($"live delivery of {queued.MessageId} on {conn.Id} failed, kept queued: {e.Message}");
            }
        }
        if (!DirectDelivery || conn.TheirService is not { RecipientKeys.Count: > 0 } service) return;

        // RFC 0046: the mediator passes the envelope on to the recipient's agent as it is. In the background: the
        // forward is already safe in the queue, and its sender need not wait for the recipient's endpoint.
        _ = Task.Run(async () =>
        {
            try
            {
                if (await _agent.Outbound.DeliverPackedAsync(queued.Envelope, service, conn.Id, CancellationToken.None))
                    _agent.Store.Remove([queued.RecipientKey], [queued.MessageId]);
            }
            catch (Exception e)
            {
                _agent.Debug($"direct delivery of {queued.MessageId} to {conn.Id} failed, kept queued for pickup: {e.Message}");
            }
        }, CancellationToken.None);
    }
}
