using System.Text.Json.Nodes;
using Conformance.Agent.Core;
using Conformance.Wire.Dids;
using Conformance.Wire.Messages;
using Conformance.Wire.Signatures;
using static Conformance.Agent.DidExchange.DidExchangeProblems;

namespace Conformance.Agent.DidExchange;

/// <summary>
/// The responder: start (or invitation-sent) → request-received → response-sent → completed.
/// RFC 0023 §1 "Request processing", §2 "Exchange Response", §3 "Exchange Complete".
/// </summary>
public sealed partial class DidExchangeProtocol
{
    // ------------------------------------------------------------------ request-received

    /// <summary>
    /// RFC 0023 §"Request processing": "the responder evaluates the provided DID and DID Doc according to the DID
    /// Method Spec"; "should check the information presented with the keys used in the wire-level message
    /// transmission"; "MAY look up the corresponding invitation identified in the request's ~thread.pthid" (this agent
    /// does: explicit invitations through <see cref="OutOfBand.OutOfBandProtocol.ClaimInvitation"/>, implicit ones
    /// against its public DID). Rejections are request_not_accepted with the reasons of §"Request Rejected".
    /// </summary>
    private async Task HandleRequestAsync(InboundMessage inbound, CancellationToken ct)
    {
        var m = inbound.Message;
        var minor = DidExchangeMessages.ReplyMinor(m.Type.Minor);
        var family = DidExchangeMessages.Family(minor);
        // "if thid is not defined it is implicitly defined as the @id on the same request message"
        var thid = m.ThreadId;
        var pthid = m.ParentThreadId;

        ProblemReportException Known(ConnectionRecord c) => new(family, RequestNotAccepted, c.State switch
        {
            "completed" => $"{AlreadyCompleted}: the exchange on thread {thid} is completed (RFC 0023: completed is a terminal state)",
            // "If the requester or responder wishes to retract the messages they sent, they record so locally and
            // return a request_not_accepted or response_not_accepted error when the other party sends a request or response."
            "abandoned" => $"the exchange on thread {thid} was abandoned by this agent",
            _ => $"{DuplicateMessage}: a request on thread {thid} was already received (state {c.State})",
        }, thid, pthid, c);

        // A request on a thread already answered: a replay, or an attempt to continue after completion (AATH T007).
        if (FindByThread(thid, ConnectionRole.Inviter) is { } known) throw Known(known);

        var replyTo = await ReplyServiceAsync(inbound, ct);
        ProblemReportException Reject(string reason, string detail) =>
            new(family, RequestNotAccepted, $"{reason}: {detail}", thid, pthid) { ReplyTo = replyTo };

        // "It MUST include the ID of the parent thread (pthid) such that the request can be correlated to the
        // corresponding (implicit or explicit) invitation."
        if (pthid == null) throw Reject(MissingInvitationReference, "the request has no ~thread.pthid (RFC 0023: it MUST include the ID of the parent thread)");

        InvitationRecord? invitation = null;
        string invitationId;
        if (pthid.StartsWith("did:", StringComparison.Ordinal))
        {
            // Implicit: "its ~thread.pthid MUST contain a DID URL that resolves to the specific service on a DID
            // document that contains the invitation." A bare DID (older ACA-Py) is tolerated.
            var pd = _agent.PublicDid;
            if (pd == null || DidResolver.DidOf(pthid) != pd.Did)
                throw Reject(MissingInvitationReference, $"~thread.pthid {DidException.Abbrev(pthid)} is not a public DID of this agent");
            if (pthid.Contains('#') && !ServiceIds(pd.Document).Contains(pthid))
                throw Reject(MissingInvitationReference, $"~thread.pthid {DidException.Abbrev(pthid)} names no DIDComm service of {pd.Did}");
            if (inbound.RecipientVerkey != pd.Verkey)
                throw Reject(MissingInvitationReference, $"the request names {pd.Did} but was not encrypted to its key");
            invitationId = pd.Did;
        }
        else
        {
            // "When a request responds to an explicit invitation, its ~thread.pthid MUST be equal to the @id property
            // of the invitation". Unknown, expired and used-up invitations are refused by the out-of-band protocol's
            // ClaimInvitation below ("Missing reference to invitation", "Expired Invitation"), after the DID checks,
            // so that a request that fails those does not use the invitation up.
            invitation = _agent.Store.GetInvitation(pthid);
            invitationId = pthid;
        }
        if (invitation != null)
        {
            if (!OffersDidExchange(invitation))
                throw new ProblemReportException(family, RequestNotAccepted,
                    $"invitation {pthid} does not offer didexchange (handshake_protocols: [{string.Join(", ", HandshakesOf(invitation))}])", thid, pthid) { ReplyTo = replyTo };
            // "The request message is encoded ... using the recipientKeys present in the invitation."
            var keys = InvitationKeys(invitation);
            if (keys.Count > 0 && !keys.Contains(inbound.RecipientVerkey))
                throw Reject(MissingInvitationReference, $"the request names invitation {pthid} but was encrypted to {inbound.RecipientVerkey}, which is not a key of that invitation");
        }

        TheirDid their;
        try
        {
            their = await TheirDids.EvaluateAsync(_agent, inbound, (attachment, doc) =>
            {
                // RFC 0023 asks no signature on the request's document; Credo and ACA-Py sign it with the DID's key.
                // A signature that is there must verify and be by a key of that document.
                if (attachment.Jws == null) return;
                string signer;
                try { signer = AttachmentJws.Verify(attachment); }
                catch (SignatureException e) { throw new Rejection(InvalidDidDoc, "did_doc~attach signature: " + e.Message); }
                if (!doc.VerificationMethods.Any(v => v.Verkey == signer))
                    throw new Rejection(InvalidDidDoc, $"did_doc~attach is signed by {signer}, which is not a key of the attached document");
            }, ct);
        }
        catch (Rejection r) { throw Reject(r.Reason, r.Detail); }

        ConnectionRecord record;
        lock (_gate)
        {
            if (FindByThread(thid, ConnectionRole.Inviter) is { } raced) throw Known(raced);
            // Counts the use; refuses unknown, expired and consumed single-use invitations. An implicit invitation
            // (the public DID) is a standing multi-use invitation that out-of-band keeps a record of too.
            try { invitation = _agent.OutOfBand.ClaimInvitation(pthid, family, m.Id, their.Service); }
            catch (ProblemReportException p) { throw new ProblemReportException(p.Family, p.Code, p.Explain, thid, pthid) { ReplyTo = p.ReplyTo ?? their.Service }; }
            // The out-of-band protocol may have made the record when it sent the invitation (state invitation-sent).
            var pending = invitation?.ConnectionId is { } cid && _agent.Store.GetConnection(cid) is { ThreadId: null, State: "invitation-sent" or "start" } p0 ? p0 : null;
            record = pending ?? NewRecord(ConnectionRole.Inviter, minor);
            record.Protocol = family;
            record.Role = ConnectionRole.Inviter;
            record.AutoAccept = invitation?.AutoAccept ?? (pending != null ? pending.AutoAccept : _agent.Options.AutoAccept);
            record.InvitationId = invitationId;
            if (invitation != null) record.Invitation = (JsonObject)invitation.Invitation.DeepClone();
            // The key the requester encrypted to is the one it will check the response's signature against.
            record.InvitationKey = inbound.RecipientVerkey;
            record.ThreadId = thid;
            record.ParentThreadId = pthid;
            record.TheirLabel = TheirDids.Str(m.Json["label"]);
            record.TheirDid = their.Did;
            record.TheirDidDoc = (JsonObject)their.Document.Json.DeepClone();
            record.TheirService = their.Service;
            record.MediatorConnectionId ??= MediatorFor(invitation);
            _agent.Transition(record, "request-received");
            if (invitation is { ConnectionId: null })
            {
                invitation.ConnectionId = record.Id;
                _agent.Store.Save(invitation);
            }
        }
        Remember(their);

        if (record.AutoAccept)
        {
            try { await SendResponseAsync(record, ct); }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _agent.Debug($"didexchange: response for {record.Id} not sent: {e.Message}");
            }
        }
    }

    // ------------------------------------------------------------------ response-sent

    /// <summary>
    /// Responder: sends the response for a received request (state response-sent). RFC 0023 §"Request processing":
    /// "They will then either update the provisional service information to rotate the key, or provision a new DID
    /// entirely" — this agent provisions a new DID (<see cref="AgentOptions.DidExchangeDidMethod"/>). A record past
    /// request-received (completed: AATH T007) is refused.
    /// </summary>
    public async Task<ConnectionRecord> AcceptRequestAsync(string connectionId, CancellationToken ct = default)
    {
        var record = Get(connectionId);
        await SendResponseAsync(record, ct);
        return record;
    }

    private async Task SendResponseAsync(ConnectionRecord record, CancellationToken ct)
    {
        lock (_gate)
        {
            if (record.Role != ConnectionRole.Inviter || !IsDidExchange(record))
                throw new InvalidOperationException($"connection {record.Id} is not a didexchange responder");
            if (record.State != "request-received")
                throw new InvalidOperationException($"connection {record.Id} is {record.State}; a response is sent only from request-received" +
                                                    (record.State is "completed" or "abandoned" ? $" (RFC 0023: {record.State} is a terminal state)" : ""));
            if (!_inFlight.Add(record.Id + "/response")) throw new InvalidOperationException($"a response for connection {record.Id} is being sent");
        }
        try
        {
            var invitationKey = _agent.Wallet.Find(record.InvitationKey ?? "")
                                ?? throw new InvalidOperationException($"this agent does not hold the invitation key {record.InvitationKey} of connection {record.Id}");
            var my = await EnsureMyDidAsync(record, ct);
            var response = DidExchangeMessages.Response(_agent, DidExchangeMessages.MinorOf(record), record.ThreadId!, my, invitationKey);
            // "When the message is sent, the responder are now in the response-sent state" — moved first, as the
            // complete may come back before the send returns.
            _agent.Transition(record, "response-sent");
            try
            {
                // "packaged in the encrypted envelope format, using the keys from the request, and the new keys"
                await _agent.Outbound.SendAsync(response, record, ct);
            }
            catch
            {
                lock (_gate) if (record.State == "response-sent") _agent.Transition(record, "request-received");
                throw;
            }
        }
        finally { End(record.Id + "/response"); }
    }

    // ------------------------------------------------------------------ completed

    /// <summary>
    /// RFC 0023 §3: "Receipt of the message puts the responder into the completed state." "The pthid is required in
    /// this message, and must be identical to the pthid used in the request message."
    /// A complete on an existing connection that names one of this agent's invitations in pthid, on no pending
    /// thread, is a reuse of that connection (the 0023-draft style that preceded RFC 0434 handshake-reuse), handed to
    /// <see cref="OutOfBand.OutOfBandProtocol.RecordReuse"/>.
    /// </summary>
    private void HandleComplete(InboundMessage inbound)
    {
        var m = inbound.Message;
        var family = DidExchangeMessages.Family(DidExchangeMessages.ReplyMinor(m.Type.Minor));
        var thid = m.Thread?.Thid;
        var pthid = m.ParentThreadId;
        var record = thid == null ? null : FindByThread(thid, ConnectionRole.Inviter);

        if (record == null)
        {
            if (inbound.Connection is { } existing && pthid != null &&
                (_agent.Store.GetInvitation(pthid) != null || (_agent.PublicDid is { } pd && DidResolver.DidOf(pthid) == pd.Did)))
            {
                // Out-of-band keeps the books: counts the use, links the invitation to the connection, emits
                // ReuseAccepted — or refuses (unknown, expired, used up) with an out-of-band problem report.
                _agent.OutOfBand.RecordReuse(existing, pthid);
                return;
            }
            throw new ProblemReportException(family, CompleteNotAccepted,
                $"{ThreadMismatch}: {(thid == null ? "the complete has no ~thread.thid" : $"~thread.thid {thid} is the thread of no exchange of this agent")}",
                m.ThreadId, pthid, inbound.Connection);
        }

        if (inbound.SenderVerkey is { } sender && !IsTheirKey(record, sender))
            throw new ProblemReportException(family, CompleteNotAccepted,
                $"the complete on thread {thid} was packed by {sender}, which is not a key of the requester's DID", thid, pthid);

        ProblemReportException Reject(string reason, string detail) =>
            new(family, CompleteNotAccepted, $"{reason}: {detail}", thid, record.ParentThreadId, record);

        if (pthid == null)
            throw Reject(MissingInvitationReference, $"the complete has no ~thread.pthid (RFC 0023: \"The pthid is required in this message\"; the request's was {record.ParentThreadId})");
        if (pthid != record.ParentThreadId)
            throw Reject(ThreadMismatch, $"~thread.pthid {pthid} is not the request's pthid {record.ParentThreadId} (RFC 0023: \"must be identical\")");

        lock (_gate)
        {
            switch (record.State)
            {
                case "response-sent":
                    _agent.Transition(record, "completed");
                    return;
                case "completed":
                    _agent.Debug($"didexchange: repeated complete on completed thread {thid} ignored");
                    return;
                default:
                    throw Reject(ThreadMismatch, $"no response was sent on thread {thid} (state {record.State})");
            }
        }
    }

    // ------------------------------------------------------------------ helpers

    /// <summary>
    /// Where a rejection of a request goes before any connection exists: the service of the request's DID document,
    /// if one can be had at all (the document may be the very thing that is wrong) — and only if that service is the
    /// key that packed the request, so a report is never sent to a stranger's endpoint.
    /// </summary>
    private async Task<ServiceRecord?> ReplyServiceAsync(InboundMessage inbound, CancellationToken ct)
    {
        if (inbound.SenderVerkey is not { } sender) return null;
        try
        {
            var m = inbound.Message;
            DidDocument? doc = null;
            if (m.Attachments(TheirDids.DidDocAttach).FirstOrDefault() is { } attachment && attachment.JsonContent() is JsonObject json)
                doc = DidDocument.FromJson(json);
            else if (m.GetString("did") is { } did && (DidPeer.IsSelfResolving(did) || DidKey.IsDidKey(did) || _agent.Resolver.CanResolve(did)))
                doc = await _agent.Resolver.ResolveAsync(did, ct);
            if (doc == null) return null;
            var chosen = await TheirDids.SelectServiceAsync(_agent, doc, sender, inbound.Session?.IsOpen == true, ct);
            return chosen.Service.RecipientKeys.Contains(sender) ? chosen.Service : null;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return null;
        }
    }

    private static bool IsTheirKey(ConnectionRecord record, string verkey)
    {
        if (record.TheirService?.RecipientKeys.Contains(verkey) == true) return true;
        if (record.TheirDidDoc == null) return false;
        try { return DidDocument.FromJson(record.TheirDidDoc).VerificationMethods.Any(v => v.Verkey == verkey); }
        catch (DidException) { return false; }
    }

    private static IEnumerable<string> HandshakesOf(InvitationRecord invitation) =>
        invitation.HandshakeProtocols.Concat(TheirDids.Items(invitation.Invitation, "handshake_protocols").Select(TheirDids.Str).OfType<string>()).Distinct();

    private static bool OffersDidExchange(InvitationRecord invitation) =>
        invitation.Kind != "connections" && HandshakesOf(invitation).Any(h => DidExchangeMessages.HandshakeMinor(h) != null);

    /// <summary>The verkeys an invitation told the requester to encrypt to: inline recipientKeys, and the keys of DIDs it names (resolved locally).</summary>
    private HashSet<string> InvitationKeys(InvitationRecord invitation)
    {
        var keys = new HashSet<string>();
        if (invitation.RecipientKey.Length > 0) keys.Add(invitation.RecipientKey);
        foreach (var entry in TheirDids.Items(invitation.Invitation, "services"))
        {
            try
            {
                if (entry is JsonObject inline)
                    foreach (var k in TheirDids.Items(inline, "recipientKeys").Select(TheirDids.Str).OfType<string>())
                        keys.Add(Wire.Envelopes.Rfc0094.ToVerkey(k));
                else if (TheirDids.Str(entry) is { } did)
                {
                    if (_agent.PublicDid is { } pd && DidResolver.DidOf(did) == pd.Did) keys.Add(pd.Verkey);
                    else foreach (var m in _agent.Resolver.Resolve(did).VerificationMethods) keys.Add(m.Verkey);
                }
            }
            catch (Exception e) when (e is DidException or Wire.Envelopes.EnvelopeException) { /* an entry this agent cannot read names no key */ }
        }
        return keys;
    }

    private static HashSet<string> ServiceIds(JsonObject document)
    {
        var did = TheirDids.Str(document["id"]) ?? "";
        return TheirDids.Items(document, "service").OfType<JsonObject>().Select(s => TheirDids.Str(s["id"])).OfType<string>()
            .Select(id => id.StartsWith('#') ? did + id : id).ToHashSet();
    }

    /// <summary>
    /// The mediator whose endpoint the invitation advertised, so that the new DID is routed the same way (the
    /// invitation record does not keep the mediator's connection id).
    /// </summary>
    private string? MediatorFor(InvitationRecord? invitation)
    {
        if (invitation == null) return null;
        var endpoints = TheirDids.Items(invitation.Invitation, "services").OfType<JsonObject>()
            .Select(s => TheirDids.Str(s["serviceEndpoint"])).OfType<string>().ToHashSet();
        if (endpoints.Count == 0 || (_agent.Endpoint is { } own && endpoints.Contains(own))) return null;
        return _agent.Store.Mediations().FirstOrDefault(m => m.Role == "recipient" && m.State == "granted" && m.Endpoint != null && endpoints.Contains(m.Endpoint))?.ConnectionId;
    }
}
