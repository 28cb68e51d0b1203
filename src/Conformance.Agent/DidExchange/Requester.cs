using System.Text.Json.Nodes;
using Conformance.Agent.Core;
using Conformance.Agent.OutOfBand;
using Conformance.Wire.Dids;
using Conformance.Wire.Envelopes;
using Conformance.Wire.Messages;
using Conformance.Wire.Signatures;
using static Conformance.Agent.DidExchange.DidExchangeProblems;

namespace Conformance.Agent.DidExchange;

/// <summary>
/// The requester: start → invitation-received → request-sent → response-received → completed.
/// RFC 0023 §1 "Exchange Request", §2 "Response Processing", §3 "Exchange Complete".
/// </summary>
public sealed partial class DidExchangeProtocol
{
    // ------------------------------------------------------------------ invitation-received

    /// <summary>
    /// Requester, explicit invitation (RFC 0434): records the invitation (state invitation-received) and, when
    /// auto-accepting, sends the request. <paramref name="handshakeProtocol"/> is the didexchange version chosen from
    /// the invitation's handshake_protocols (or named by the harness: a 1.1 request to a 1.0 invitation is allowed,
    /// as Credo sends it); the request is written in the lower of it and <see cref="AgentOptions.DidExchangeVersion"/>.
    /// </summary>
    public async Task<ConnectionRecord> StartFromOobAsync(JsonObject oobInvitation, string handshakeProtocol, OobReceiveOptions o, CancellationToken ct = default)
    {
        var invitationId = TheirDids.Str(oobInvitation["@id"]) is { Length: > 0 } id
            ? id : throw new InvalidOperationException("the out-of-band invitation has no @id");
        var offered = DidExchangeMessages.HandshakeMinor(handshakeProtocol)
                      ?? throw new InvalidOperationException($"'{handshakeProtocol}' is not a didexchange 1.x handshake protocol");
        var minor = Math.Min(DidExchangeMessages.ReplyMinor(offered), DidExchangeMessages.MinorOf(_agent.Options.DidExchangeVersion));
        var service = await InvitationServiceAsync(oobInvitation, ct);

        var record = NewRecord(ConnectionRole.Invitee, minor);
        record.AutoAccept = o.AutoAccept ?? _agent.Options.AutoAccept;
        record.InvitationId = invitationId;
        // "When a request responds to an explicit invitation, its ~thread.pthid MUST be equal to the @id property of the invitation"
        record.ParentThreadId = invitationId;
        record.Invitation = (JsonObject)oobInvitation.DeepClone();
        // "The request message is encoded ... using the recipientKeys present in the invitation": the first one is
        // the key the response's signature must come from.
        record.InvitationKey = service.RecipientKeys[0];
        record.TheirService = service;
        record.TheirLabel = TheirDids.Str(oobInvitation["label"]);
        record.MediatorConnectionId = o.MediatorConnectionId;
        if (o.Label != null) _labels[record.Id] = o.Label;
        _agent.Transition(record, "invitation-received");

        if (record.AutoAccept) await SendRequestAsync(record.Id, ct);
        return record;
    }

    /// <summary>
    /// Requester, implicit invitation: RFC 0023 "The information needed to construct the request message ... is used
    /// either from the resolved DID Document" — resolves <paramref name="theirPublicDid"/>, takes its first DIDComm
    /// service (or the one a DID URL names) and sends the request there with <c>~thread.pthid</c> = that service's
    /// DID URL ("its ~thread.pthid MUST contain a DID URL that resolves to the specific service"). The request is sent
    /// in manual mode too (AATH create-request-resolvable-did: "Send a did exchange request to the didcomm service
    /// registered in the public did"); <paramref name="autoAccept"/> governs the rest.
    /// </summary>
    public async Task<ConnectionRecord> CreateRequestToPublicDidAsync(string theirPublicDid, string? label = null, bool? autoAccept = null, CancellationToken ct = default)
    {
        var did = DidResolver.DidOf(theirPublicDid);
        var doc = await _agent.Resolver.ResolveAsync(did, ct);
        ChosenService chosen;
        try { chosen = await TheirDids.SelectServiceAsync(_agent, doc, null, false, ct, theirPublicDid.Contains('#') ? theirPublicDid : null); }
        catch (Rejection r) { throw new InvalidOperationException($"{DidException.Abbrev(did)}: {r.Explain}"); }

        var record = NewRecord(ConnectionRole.Invitee, DidExchangeMessages.MinorOf(_agent.Options.DidExchangeVersion));
        record.AutoAccept = autoAccept ?? _agent.Options.AutoAccept;
        record.InvitationId = did;
        record.ParentThreadId = chosen.Id ?? did;
        record.InvitationKey = chosen.Service.RecipientKeys[0];
        record.TheirService = chosen.Service;
        if (label != null) _labels[record.Id] = label;
        _agent.Transition(record, "invitation-received");
        return await SendRequestAsync(record.Id, ct);
    }

    // ------------------------------------------------------------------ request-sent

    /// <summary>
    /// Sends the request (state request-sent). Allowed from invitation-received, and again from request-sent after a
    /// problem report: RFC 0023 "The request can be resent after the appropriate corrections have been made." A resent
    /// request is a new message, so it starts a new thread.
    /// </summary>
    public async Task<ConnectionRecord> SendRequestAsync(string connectionId, CancellationToken ct = default)
    {
        var record = Get(connectionId);
        string previous;
        lock (_gate)
        {
            if (record.Role != ConnectionRole.Invitee || !IsDidExchange(record))
                throw new InvalidOperationException($"connection {record.Id} is not a didexchange requester");
            if (!(record.State == "invitation-received" || (record.State == "request-sent" && record.ProblemReport != null)))
                throw new InvalidOperationException($"connection {record.Id} is {record.State}; a request is sent from invitation-received (or resent after a problem report)");
            if (!_inFlight.Add(record.Id + "/request")) throw new InvalidOperationException($"a request for connection {record.Id} is being sent");
            previous = record.State;
        }
        try
        {
            var my = await EnsureMyDidAsync(record, ct);
            var label = _labels.GetValueOrDefault(record.Id) ?? _agent.Options.Label;
            var request = DidExchangeMessages.Request(_agent, DidExchangeMessages.MinorOf(record), record.ParentThreadId!, label, my);
            record.ThreadId = request.Id;
            record.ProblemReport = null;
            // Before sending: over return-route the response comes back inside the send.
            _agent.Transition(record, "request-sent");
            try
            {
                await _agent.Outbound.SendAsync(request, record, ct);
            }
            catch
            {
                lock (_gate) if (record.State == "request-sent") _agent.Transition(record, previous);
                throw;
            }
        }
        finally { End(record.Id + "/request"); }
        return record;
    }

    // ------------------------------------------------------------------ response-received

    /// <summary>
    /// RFC 0023 §"Response Processing": "After decryption validation, the signature on the did_doc~attach or
    /// did_rotate~attach MUST be validated, if present. The key used in the signature MUST match the key used in the
    /// invitation. After attachment signature validation, they will update their wallet with the new information".
    /// This agent also requires that at least one of them be signed by the invitation key (unless the responder kept
    /// the invitation's own DID): a new DID nobody signed could be anyone's — the rotation provenance 1.1 was made for.
    /// </summary>
    private async Task HandleResponseAsync(InboundMessage inbound, CancellationToken ct)
    {
        var m = inbound.Message;
        var family = DidExchangeMessages.Family(DidExchangeMessages.ReplyMinor(m.Type.Minor));
        var thid = m.Thread?.Thid;
        var record = thid == null ? null : FindByThread(thid, ConnectionRole.Invitee);
        if (record == null)
        {
            // "The ~thread decorator MUST be included. It contains a thid reference to the @id of the request message."
            var mine = _agent.Store.FindConnectionByMyVerkey(inbound.RecipientVerkey, c => c.Role == ConnectionRole.Invitee && IsDidExchange(c));
            var what = thid == null ? "the response has no ~thread.thid" : $"~thread.thid {thid} is the @id of no request of this agent";
            throw new ProblemReportException(family, ResponseNotAccepted,
                $"{ThreadMismatch}: {what}{(mine?.ThreadId is { } t ? $" (the request sent from this key was {t})" : "")}",
                m.ThreadId, mine?.ParentThreadId, mine);
        }

        ProblemReportException Reject(string reason, string detail) =>
            new(family, ResponseNotAccepted, $"{reason}: {detail}", thid, record.ParentThreadId, record);

        switch (record.State)
        {
            case "request-sent": break;
            case "completed": throw Reject(AlreadyCompleted, $"the exchange on thread {thid} is completed (RFC 0023: completed is a terminal state)");
            case "abandoned": throw Reject(ExpiredRequest, $"the request on thread {thid} was abandoned by this agent");
            case "response-received": throw Reject(DuplicateMessage, $"a response on thread {thid} was already accepted");
            default: throw Reject(ThreadMismatch, $"no request is pending on thread {thid} (state {record.State})");
        }

        string? did;
        try { did = m.GetString("did"); }
        catch (MessageFormatException e) { throw Reject(InvalidDidDoc, e.Message); }
        var invitationKey = record.InvitationKey ?? "";
        var provenance = false;

        // did_rotate~attach (1.1): "The value is the Base64url encoded DID, and signed with the key used in the invitation."
        Attachment? rotate;
        try { rotate = m.Attachments(TheirDids.DidRotateAttach).FirstOrDefault(); }
        catch (MessageFormatException e) { throw Reject(InvalidSignature, e.Message); }
        if (rotate != null)
        {
            if (rotate.Jws == null) throw Reject(InvalidSignature, "did_rotate~attach is not signed (no data.jws)");
            string signer;
            try { signer = AttachmentJws.Verify(rotate); }
            catch (SignatureException e) { throw Reject(InvalidSignature, "did_rotate~attach: " + e.Message); }
            if (signer != invitationKey)
                throw Reject(InvalidSignature, $"did_rotate~attach is signed by {signer}, not by the invitation key {invitationKey} (\"The key used in the signature MUST match the key used in the invitation\")");
            string rotated;
            try { rotated = System.Text.Encoding.UTF8.GetString(rotate.Bytes()); }
            catch (MessageFormatException e) { throw Reject(InvalidSignature, "did_rotate~attach: " + e.Message); }
            if (rotated != did)
                throw Reject(InvalidSignature, $"did_rotate~attach signs {rotated}, not the response's did {did}");
            provenance = true;
        }

        TheirDid their;
        try
        {
            their = await TheirDids.EvaluateAsync(_agent, inbound, (attachment, doc) =>
            {
                if (attachment.Jws == null) return;   // judged below: another attachment may carry the provenance
                string signer;
                try { signer = AttachmentJws.Verify(attachment); }
                catch (SignatureException e) { throw new Rejection(InvalidSignature, "did_doc~attach: " + e.Message); }
                if (signer == invitationKey) { provenance = true; return; }
                // Tolerated: the new DID's own key signing its document, once did_rotate~attach tied the DID to the invitation key.
                if (provenance && doc.VerificationMethods.Any(v => v.Verkey == signer)) return;
                throw new Rejection(InvalidSignature,
                    $"did_doc~attach is signed by {signer}, not by the invitation key {invitationKey} (\"The key used in the signature MUST match the key used in the invitation\")");
            }, ct);
        }
        catch (Rejection r) { throw Reject(r.Reason, r.Detail); }

        if (!provenance && !IsInvitationDid(record, their.Did))
            throw Reject(InvalidSignature,
                $"neither did_rotate~attach nor did_doc~attach is signed by the invitation key {invitationKey}, so nothing ties {DidException.Abbrev(their.Did)} to the invitation");

        lock (_gate)
        {
            if (record.State != "request-sent") throw Reject(DuplicateMessage, $"a response on thread {thid} was already accepted");
            record.TheirDid = their.Did;
            record.TheirDidDoc = (JsonObject)their.Document.Json.DeepClone();
            record.TheirService = their.Service;
            _agent.Transition(record, "response-received");
        }
        Remember(their);

        if (record.AutoAccept || CompleteAutomatically)
        {
            try { await SendCompleteAsync(record, ct); }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _agent.Debug($"didexchange: complete for {record.Id} not sent: {e.Message}");
            }
        }
    }

    /// <summary>True if the responder answered with the DID the invitation named (no rotation, nothing to sign).</summary>
    private static bool IsInvitationDid(ConnectionRecord record, string did)
    {
        if (record.ParentThreadId is { } p && p.StartsWith("did:", StringComparison.Ordinal) && DidResolver.DidOf(p) == did) return true;
        return record.Invitation != null && TheirDids.Items(record.Invitation, "services")
            .Select(TheirDids.Str).OfType<string>().Any(s => DidResolver.DidOf(s) == did);
    }

    private void Remember(TheirDid their)
    {
        if (their.ToRemember == null) return;
        try { _agent.Resolver.Remember(their.ToRemember); }
        catch (DidException e) { _agent.Debug($"didexchange: document of {DidException.Abbrev(their.Did)} not cached: {e.Message}"); }
    }

    // ------------------------------------------------------------------ completed

    /// <summary>Requester in manual mode (<see cref="CompleteAutomatically"/> false): sends the complete for a received response.</summary>
    public async Task<ConnectionRecord> AcceptResponseAsync(string connectionId, CancellationToken ct = default)
    {
        var record = Get(connectionId);
        await SendCompleteAsync(record, ct);
        return record;
    }

    /// <summary>RFC 0023 §3: "After a complete message is sent, the requester is in the completed terminal state."</summary>
    private async Task SendCompleteAsync(ConnectionRecord record, CancellationToken ct)
    {
        lock (_gate)
        {
            if (record.State != "response-received")
                throw new InvalidOperationException($"connection {record.Id} is {record.State}; complete is sent from response-received");
            if (!_inFlight.Add(record.Id + "/complete")) throw new InvalidOperationException($"a complete for connection {record.Id} is being sent");
        }
        try
        {
            var complete = DidExchangeMessages.Complete(_agent, DidExchangeMessages.MinorOf(record), record.ThreadId!, record.ParentThreadId!);
            _agent.Transition(record, "completed");
            try
            {
                await _agent.Outbound.SendAsync(complete, record, ct);
            }
            catch
            {
                lock (_gate) if (record.State == "completed") _agent.Transition(record, "response-received");
                throw;
            }
        }
        finally { End(record.Id + "/complete"); }
    }

    /// <summary>
    /// Reuse in the style of the RFC 0023 drafts that preceded RFC 0434's handshake-reuse: a <c>complete</c> on an
    /// existing connection whose <c>~thread.pthid</c> is the @id of the new invitation. Returns the thread id.
    /// </summary>
    public async Task<string> SendReuseCompleteAsync(ConnectionRecord existing, string invitationId, CancellationToken ct = default)
    {
        var minor = IsDidExchange(existing) ? DidExchangeMessages.MinorOf(existing) : DidExchangeMessages.MinorOf(_agent.Options.DidExchangeVersion);
        var complete = _agent.NewMessage(DidExchangeMessages.TypeUri(minor, "complete"));
        complete = complete.WithThread(complete.Id, invitationId);
        await _agent.Outbound.SendAsync(complete, existing, ct);
        return complete.Id;
    }

    // ------------------------------------------------------------------ the invitation's service

    /// <summary>
    /// RFC 0434 §"The services Item": entries are DIDs (resolved, their DIDComm service used) or inline blocks;
    /// "Use only entries where the type is equal to did-communication. Entries without a type are assumed to be
    /// did-communication."; "the receiver SHOULD prefer the entries in order". Inline "recipientKeys and routingKeys
    /// ... MUST be did:key references" (raw base58 keys, as older agents write them, are tolerated).
    /// </summary>
    private async Task<ServiceRecord> InvitationServiceAsync(JsonObject invitation, CancellationToken ct)
    {
        var problems = new List<string>();
        foreach (var entry in TheirDids.Items(invitation, "services"))
        {
            try
            {
                if (TheirDids.Str(entry) is { } did)
                {
                    var doc = await _agent.Resolver.ResolveAsync(did, ct);
                    return (await TheirDids.SelectServiceAsync(_agent, doc, null, false, ct, did.Contains('#') ? did : null)).Service;
                }
                if (entry is not JsonObject s) { problems.Add("an entry is neither a DID nor an object"); continue; }
                var type = TheirDids.Str(s["type"]) ?? DidCommService.DidCommunication;
                if (type != DidCommService.DidCommunication) { problems.Add($"service type {type} is not did-communication"); continue; }
                var recipients = TheirDids.Items(s, "recipientKeys").Select(TheirDids.Str).OfType<string>().Select(Rfc0094.ToVerkey).ToList();
                var routing = new List<string>();
                foreach (var r in TheirDids.Items(s, "routingKeys").Select(TheirDids.Str).OfType<string>())
                    routing.Add(r.StartsWith("did:", StringComparison.Ordinal) && !DidKey.IsDidKey(r) ? await _agent.Resolver.ResolveVerkeyAsync(r, ct) : Rfc0094.ToVerkey(r));
                var endpoint = TheirDids.Str(s["serviceEndpoint"]) ?? "";
                if (recipients.Count == 0) { problems.Add("an inline service has no recipientKeys"); continue; }
                if (!TheirDids.IsDeliverable(endpoint)) { problems.Add($"endpoint '{DidException.Abbrev(endpoint)}' is not http(s)/ws(s)"); continue; }
                return new ServiceRecord { RecipientKeys = recipients, RoutingKeys = routing, Endpoint = endpoint };
            }
            catch (Exception e) when (e is Rejection or DidException or EnvelopeException or HttpRequestException)
            {
                problems.Add(e is Rejection r ? r.Explain : e.Message);
            }
        }
        throw new InvalidOperationException("the invitation offers no usable service" + (problems.Count > 0 ? ": " + string.Join("; ", problems) : ""));
    }
}
