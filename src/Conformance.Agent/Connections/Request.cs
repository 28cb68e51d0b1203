// RFC 0160 §1 "Connection Request".
//
// Invitee: "The invitee will provision a new DID according to the DID method spec ... The newly provisioned DID and
// DID document is presented in the connection_request message":
//   {"@id", "@type": ".../connections/1.0/request", "label", "connection": {"DID", "DIDDoc"}}
// (plus ~thread {thid: @id, pthid: the OOB invitation @id} when the invitation was an RFC 0434 out-of-band one).
// Request Transmission: "encoded according to the standards of the Agent Wire Level Protocol, using the
// recipientKeys present in the invitation. If the routingKeys attribute was present and non-empty in the invitation,
// each key must be used to wrap the message in a forward request" (Outbound does the RFC 0094 wrapping).
// "We are now in the requested state."
//
// Inviter, Request processing: evaluate the DID and DID document (ConnectionDid.cs), "persist the received
// information", then answer with a response (Response.cs) at once or when accepted by hand.
// Request Errors -> request_not_accepted: unknown or consumed single-use invitation, "Expired Invitation",
// "Unsupported DID method", "DID Document Invalid", "Unsupported key type", "Unsupported endpoint protocol", or a
// request on a record that is not waiting for one. request_processing_error: "the inviter was processing the
// request with the intent to accept the request, but some processing error occurred".
// Before a record exists, a rejection is sent to the service in the request's DID document.
using System.Text.Json.Nodes;
using Conformance.Agent.Core;
using Conformance.Wire.Messages;

namespace Conformance.Agent.Connections;

public sealed partial class ConnectionsProtocol
{
    // ------------------------------------------------------------------ invitee

    /// <summary>Invitee: sends the request for a received invitation. In state requested, sends the same request again ("resent as-is").</summary>
    public async Task<ConnectionRecord> AcceptInvitationAsync(string connectionId, CancellationToken ct = default)
    {
        var c = Record(connectionId, ConnectionRole.Invitee);
        var resend = c.State == States.Requested;
        if (!resend && c.State != States.Invited)
            throw new InvalidOperationException($"connection {c.Id} is '{c.State}'; a request is sent from '{States.Invited}'");

        if (c.MyDid == null) await CreateMyDidAsync(c, ct);
        // A resend is the same request: same @id, so the inviter recognises it.
        var request = AgentMessage.Create(MessageType.Parse(DocUriOf(c) + Family + "/request"), c.ThreadId ?? _agent.NewId());
        request.Json["label"] = LabelOf(c) ?? _agent.Options.Label;
        request.Json["connection"] = new JsonObject { ["DID"] = c.MyDid, ["DIDDoc"] = c.MyDidDoc!.DeepClone() };
        if (c.ParentThreadId != null) request = request.WithThread(request.Id, c.ParentThreadId);   // RFC 0434: pthid = invitation @id

        if (!resend)
        {
            c.ThreadId = request.Id;
            _agent.Transition(c, States.Requested);   // §1 "We are now in the requested state" -- before the response can arrive
        }
        try
        {
            await _agent.Outbound.SendAsync(request, c, ct);
        }
        catch
        {
            if (!resend && c.State == States.Requested) _agent.Transition(c, States.Invited);   // nothing was transmitted
            throw;
        }
        return _agent.Store.GetConnection(c.Id) ?? c;
    }

    /// <summary>Our DID for this connection, in <see cref="DidMethod"/>, routed through the record's mediator if any.</summary>
    private async Task CreateMyDidAsync(ConnectionRecord c, CancellationToken ct)
    {
        ServiceRecord? routed = null;
        if (c.MediatorConnectionId is { } med)
            routed = _agent.Mediation.RoutingFor(med) ?? throw new InvalidOperationException($"mediation on connection {med} is not granted");
        var mine = MyDids.Create(_agent, DidMethod, routed);
        if (c.MediatorConnectionId is { } m) await _agent.Mediation.RegisterKeyAsync(m, mine.Key.Verkey, ct);
        c.MyDid = mine.Did;
        c.MyVerkey = mine.Key.Verkey;
        c.MyDidDoc = mine.Document;
        _agent.Store.Save(c);
    }

    // ------------------------------------------------------------------ inviter

    private async Task HandleRequestAsync(InboundMessage inbound, CancellationToken ct)
    {
        var m = inbound.Message;
        var thid = m.ThreadId;
        var pthid = m.ParentThreadId;
        var connectionNode = m.Json["connection"];
        var replyTo = ReplyServiceOf(connectionNode);
        ProblemReportException NotAccepted(string why) =>
            new(Family, ProblemCodes.RequestNotAccepted, why, thid, pthid) { ReplyTo = replyTo };

        var label = m.Json["label"] is null ? null : Str(m.Json["label"]) ?? throw NotAccepted("label must be a string");

        // Which invitation is this request answering? The OOB invitation its pthid names, else the invitation whose
        // key the request was encrypted to, else our public DID (an implicit invitation).
        var invitation = FindInvitation(inbound.RecipientVerkey, pthid);
        var isPublic = invitation == null && _agent.PublicDid?.Verkey == inbound.RecipientVerkey;
        if (invitation == null && !isPublic)
            throw NotAccepted("this request answers no invitation of this agent (unknown invitation key or thread)");
        // A pthid must not let a request borrow another invitation (an OOB invitation may name our public DID instead of a key).
        if (invitation != null && invitation.RecipientKey != inbound.RecipientVerkey && _agent.PublicDid?.Verkey != inbound.RecipientVerkey)
            throw NotAccepted($"the request was encrypted to {inbound.RecipientVerkey}, not to the key of invitation {invitation.Id}");

        // The same request again (same thread, same DID): "the request should be resent as-is" after a processing
        // error, so a resend is answered, not rejected as a second use of the invitation.
        var existing = _agent.Store.FindConnection(x => x.Protocol == Family && x.Role == ConnectionRole.Inviter
                                                          && x.ThreadId == thid && x.InvitationKey == inbound.RecipientVerkey);
        if (existing != null)
        {
            var sameDid = Str((connectionNode as JsonObject)?["DID"] ?? (connectionNode as JsonObject)?["did"]) == existing.TheirDid;
            if (!sameDid || existing.State is not (States.Requested or States.Responded))
                throw NotAccepted($"a request on thread {thid} was already processed (connection is '{existing.State}')");
            _agent.Debug($"connections: request {m.Id} repeated on connection {existing.Id} ({existing.State})");
            // Answer it again if we answered (or meant to answer) it before; a manual record keeps waiting.
            if (existing.State == States.Responded || existing.AutoAccept) await AcceptRequestAsync(existing.Id, ct);
            return;
        }

        var their = await ReadConnectionAsync(connectionNode, inbound.SenderVerkey, NotAccepted, ct);

        // Only a valid request uses up a single-use invitation: a rejected one "can be resent after the appropriate
        // corrections have been made".
        var c = Claim(invitation, inbound.RecipientVerkey, thid, replyTo, NotAccepted);

        try
        {
            c.ThreadId = thid;
            c.ParentThreadId = pthid;
            c.TheirLabel = label;
            c.TheirDid = their.Did;
            c.TheirDidDoc = (JsonObject)their.DocJson.DeepClone();
            c.TheirService = their.Service;
            SetDocUri(c, m.Type.DocUri);   // reply in the prefix the invitee used
            _agent.Transition(c, States.Requested);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _agent.Debug($"connections: processing request {m.Id} failed: {e}");
            throw new ProblemReportException(Family, ProblemCodes.RequestProcessingError, "the request could not be processed; resend it as-is", thid, pthid, c.TheirService == null ? null : c) { ReplyTo = replyTo };
        }

        if (!c.AutoAccept) return;
        try
        {
            await AcceptRequestAsync(c.Id, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _agent.Debug($"connections: the response to request {m.Id} could not be sent: {e.Message}");
            throw new ProblemReportException(Family, ProblemCodes.RequestProcessingError, "the response could not be sent; resend the request as-is", thid, pthid, c) { ReplyTo = replyTo };
        }
    }

    /// <summary>The invitation a request answers: by pthid (an RFC 0434 invitation @id), else by the key the request was encrypted to.</summary>
    private InvitationRecord? FindInvitation(string recipientVerkey, string? pthid)
    {
        if (pthid != null && _agent.Store.GetInvitation(pthid) is { } byThread) return byThread;
        return _agent.Store.FindInvitation(i => i.RecipientKey == recipientVerkey && i.Kind != "out-of-band")
               ?? _agent.Store.FindInvitation(i => i.RecipientKey == recipientVerkey);
    }

    /// <summary>
    /// Counts a use of the invitation and returns the record the request goes on: the single-use invitation's own
    /// record (which must still be invited), or a new record for a multi-use, public-DID or implicit invitation.
    /// </summary>
    private ConnectionRecord Claim(InvitationRecord? invitation, string invitationKey, string thid, ServiceRecord? replyTo, Func<string, ProblemReportException> notAccepted)
    {
        ConnectionRecord? c = null;
        if (invitation is { Kind: "out-of-band" })
        {
            // RFC 0434: the out-of-band protocol owns its invitations (expiry, single use).
            invitation = _agent.OutOfBand.ClaimInvitation(invitation.Id, Family, thid, replyTo);
            if (invitation.ConnectionId is { } oobConn && _agent.Store.GetConnection(oobConn) is { TheirDid: null } prepared
                && prepared.Role == ConnectionRole.Inviter && prepared.State is States.Invited or "invitation-sent" or "start")
                c = prepared;
        }
        else if (invitation != null)
        {
            lock (_gate)
            {
                if (invitation.ExpiresAt is { } exp && exp <= _agent.Clock.Now())
                    throw notAccepted($"the invitation {invitation.Id} expired at {exp:O} (RFC 0160 §1: \"Expired Invitation\")");
                if (!invitation.MultiUse)
                {
                    if (invitation.UseCount > 0)
                        throw notAccepted($"the single-use invitation {invitation.Id} has already been used");
                    if (invitation.ConnectionId is { } id && _agent.Store.GetConnection(id) is { } own)
                    {
                        if (own.State != States.Invited)
                            throw notAccepted($"the connection of invitation {invitation.Id} is '{own.State}', not waiting for a request");
                        c = own;
                    }
                }
                invitation.UseCount++;
                _agent.Store.Save(invitation);
            }
        }

        if (c == null)
        {
            c = new ConnectionRecord
            {
                Id = _agent.NewId(),
                CreatedAt = _agent.Clock.Now(),
                AutoAccept = invitation?.AutoAccept ?? _agent.Options.AutoAccept,
                InvitationId = invitation?.Id ?? _agent.PublicDid?.Did,
                Invitation = invitation == null ? null : (JsonObject)invitation.Invitation.DeepClone(),
                MediatorConnectionId = MediatorOf(invitation),
            };
            if (invitation != null && invitation.ConnectionId == null)
            {
                invitation.ConnectionId = c.Id;   // "first connection made from it"
                _agent.Store.Save(invitation);
            }
        }
        c.Protocol = Family;
        c.Role = ConnectionRole.Inviter;
        c.InvitationKey = invitationKey;
        return c;
    }

    /// <summary>The mediation whose endpoint an invitation advertised, so that our DID for the connection is routed the same way.</summary>
    private string? MediatorOf(InvitationRecord? invitation)
    {
        if (invitation == null || Str(invitation.Invitation["serviceEndpoint"]) is not { } endpoint || endpoint == _agent.Endpoint) return null;
        return _agent.Store.Mediations().FirstOrDefault(x => x.Role == "recipient" && x.State == "granted" && x.Endpoint == endpoint)?.ConnectionId;
    }
}
