// RFC 0434 receiver side: §"Out-of-Band Message Processing", §"Reuse Messages", requests~attach (connectionless,
// "ephemeral mode" of seed 002: "Some interactions do not need an established connection to complete their purpose").
//
// What the receiver does with an invitation, in this order:
//   1. Reuse, if asked and a connection to the same inviter exists (same invitation key, or same DID in services):
//      - with requests~attach: "the receiver SHOULD respond to one of the attached messages using the existing connection";
//      - without: "the receiver SHOULD attempt to do so with the reuse and reuse-accepted messages" (or, in the
//        0023-draft style, a didexchange complete carrying the invitation as pthid).
//   2. A handshake, if handshake_protocols is given: the first protocol in the sender's order of preference that
//      this agent speaks ("an array of protocols in the order of preference of the sender"), delegated to
//      didexchange or connections. With requests~attach as well: "the receiver should first establish a
//      connection and then respond (using that connection) to one of the messages in the requests~attach message."
//   3. Otherwise connectionless: "The receiver responds to one of the messages in the requests~attach array", over
//      the invitation's services; "If the protocol requires a further response from the sender to the receiver, the
//      receiver must include a ~service decorator for the sender to use in responding."
// Every response carries the invitation: "The response to an out-of-band message MUST set its ~thread.pthid equal
// to the @id property of the out-of-band message."
using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Conformance.Agent.Core;
using Conformance.Agent.Transport;
using Conformance.Agent.TrustPing;
using Conformance.Wire.Crypto;
using Conformance.Wire.Dids;
using Conformance.Wire.Envelopes;
using Conformance.Wire.Invitations;
using Conformance.Wire.Messages;

namespace Conformance.Agent.OutOfBand;

public sealed partial class OutOfBandProtocol
{
    /// <summary>Connections whose handshake started from an invitation with requests~attach: answer once established.</summary>
    private readonly ConcurrentDictionary<string, (OobInvitation Invitation, AgentMessage Request)> _answerWhenConnected = new();
    private int _listening;

    /// <summary>Receives an invitation URL (<c>?oob=</c>, also <c>c_i</c>/<c>d_m</c> carrying an out-of-band message, or raw JSON).</summary>
    public Task<OobReceiveResult> ReceiveInvitationUrlAsync(string url, OobReceiveOptions o, CancellationToken ct = default) =>
        ReceiveInvitationAsync(InvitationUrl.Decode(url).Message, o, ct);

    /// <summary>Receives an invitation: negotiates the handshake (first the receiver supports), reuses a connection if asked and possible, or answers requests~attach connectionless.</summary>
    /// <exception cref="OutOfBandException">The invitation is invalid or cannot be answered (one-line reason).</exception>
    public async Task<OobReceiveResult> ReceiveInvitationAsync(JsonObject invitation, OobReceiveOptions o, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(o);
        var inv = OobInvitation.Parse(invitation);
        foreach (var d in inv.Deviations) _agent.Debug($"out-of-band invitation {inv.Id}: {d}");

        if (o.UseExistingConnection)
        {
            if (FindExistingConnection(inv) is { } existing) return await ReuseAsync(inv, existing, o, ct);
            _agent.Debug($"out-of-band invitation {inv.Id}: no established connection to the same inviter (same invitation key or DID); not reusing");
        }
        return await RespondAsync(inv, o, ct);
    }

    private async Task<OobReceiveResult> RespondAsync(OobInvitation inv, OobReceiveOptions o, CancellationToken ct)
    {
        if (inv.HandshakeProtocols.Count > 0 || o.PreferredHandshake != null)
        {
            var protocol = SelectHandshake(inv.HandshakeProtocols, o.PreferredHandshake)
                           ?? throw new OutOfBandException($"none of the invitation's handshake protocols is supported ({string.Join(", ", inv.HandshakeProtocols)}); " +
                                                           "this agent speaks didexchange/1.0, didexchange/1.1 and connections/1.0");
            var connection = await StartHandshakeAsync(inv, protocol, o, ct);
            if (inv.Requests.Count > 0) AnswerWhenConnected(inv, connection);
            return new OobReceiveResult(connection, false, connection.State);
        }
        var request = FirstAnswerable(inv);
        var services = await inv.ResolveServicesAsync(_agent.Resolver, ct);
        await AnswerAsync(inv, request, null, services, ct);
        return new OobReceiveResult(null, false, "done");
    }

    private async Task<ConnectionRecord> StartHandshakeAsync(OobInvitation inv, string protocol, OobReceiveOptions o, CancellationToken ct)
    {
        var json = (JsonObject)inv.Json.DeepClone();
        var t = MessageType.Parse(protocol + "/x");
        return t.Protocol == "didexchange"
            ? await _agent.DidExchange.StartFromOobAsync(json, protocol, o, ct)
            : await _agent.Connections.StartFromOobAsync(json, o, ct);
    }

    // ------------------------------------------------------------------ negotiation

    /// <summary>
    /// The handshake protocol to answer with: <paramref name="preferred"/> if given (harness override; it must be one
    /// this agent speaks), else the first of <paramref name="offered"/> (the sender's order of preference) that this
    /// agent speaks; null if none. The result is the protocol URI in the version this agent will use
    /// (see <see cref="SupportedHandshake"/>).
    /// </summary>
    public static string? SelectHandshake(IReadOnlyList<string> offered, string? preferred = null)
    {
        ArgumentNullException.ThrowIfNull(offered);
        if (preferred != null)
            return SupportedHandshake(preferred) ?? throw new OutOfBandException($"PreferredHandshake '{OobJson.Excerpt(preferred)}' is not a handshake protocol this agent speaks");
        foreach (var p in offered)
            if (SupportedHandshake(p) is { } s) return s;
        return null;
    }

    /// <summary>
    /// The protocol URI this agent answers an offered handshake protocol with, or null if it does not speak it:
    /// didexchange/1.0 stays 1.0 and 1.1 stays 1.1 (a later 1.x is answered in 1.1, RFC 0003: minor versions only add);
    /// connections/1.x is answered in 1.0. Both community prefixes (RFC 0348); no other doc URI.
    /// </summary>
    public static string? SupportedHandshake(string protocolUri)
    {
        if (!MessageType.TryParse(protocolUri.Trim().TrimEnd('/') + "/x", out var t)) return null;
        if (t.DocUri is not (DocUris.DidCommOrg or DocUris.LegacySov)) return null;
        return (t.Protocol, t.Major) switch
        {
            ("didexchange", 1) => t.DocUri + (t.Minor == 0 ? "didexchange/1.0" : "didexchange/1.1"),
            ("connections", 1) => t.DocUri + "connections/1.0",
            _ => null,
        };
    }

    // ------------------------------------------------------------------ reuse, receiver side

    /// <summary>
    /// An established connection to the inviter of <paramref name="inv"/>: one made from an invitation with the same
    /// recipient key, or with (or to) the same DID in services. RFC 0434: "if a connection they have was created from
    /// an out-of-band invitation from the same services DID of a new invitation message, the connection MAY be
    /// reused"; Credo also reuses on the same invitation key. The most recently updated one wins.
    /// </summary>
    public ConnectionRecord? FindExistingConnection(OobInvitation inv)
    {
        ArgumentNullException.ThrowIfNull(inv);
        var keys = inv.InlineRecipientKeys.ToHashSet(StringComparer.Ordinal);
        var dids = inv.ServiceDids.Select(DidResolver.DidOf).ToHashSet(StringComparer.Ordinal);
        return _agent.Store.FindConnections(c => c.IsActive && SameInviter(c, keys, dids))
            .OrderBy(c => c.UpdatedAt).LastOrDefault();
    }

    private static bool SameInviter(ConnectionRecord c, HashSet<string> keys, HashSet<string> dids)
    {
        if (c.InvitationKey is { } k && TryVerkey(k) is { } vk && keys.Contains(vk)) return true;
        if (c.InvitationId is { } iid && iid.StartsWith("did:", StringComparison.Ordinal) && dids.Contains(DidResolver.DidOf(iid))) return true;
        if (c.TheirDid is { } their && dids.Contains(DidResolver.DidOf(their))) return true;
        if (c.Invitation?["services"] is not JsonArray old) return false;
        foreach (var s in old)
        {
            if (OobJson.AsString(s) is { } did && dids.Contains(DidResolver.DidOf(did))) return true;
            if (s is JsonObject block && block["recipientKeys"] is JsonArray rk &&
                rk.Select(OobJson.AsString).OfType<string>().Select(TryVerkey).Any(v => v != null && keys.Contains(v)))
                return true;
        }
        return false;
    }

    private static string? TryVerkey(string key)
    {
        try { return Rfc0094.ToVerkey(key); }
        catch (EnvelopeException) { return null; }
    }

    private async Task<OobReceiveResult> ReuseAsync(OobInvitation inv, ConnectionRecord existing, OobReceiveOptions o, CancellationToken ct)
    {
        // "If the receiver desires to reuse the existing connection and a requests~attach item is included in the
        // message, the receiver SHOULD respond to one of the attached messages using the existing connection."
        if (inv.Requests.Count > 0)
        {
            await AnswerAsync(inv, FirstAnswerable(inv), existing, null, ct);
            return new OobReceiveResult(existing, true, "done");
        }

        if (o.ReuseStyle == "complete")
        {
            // 0023 draft (seed 002) §Connection Reuse: "the Request and Response messages are bypassed. A complete
            // message is sent, including the pthid used to maintain context inside the message."
            var version = inv.HandshakeProtocols.Select(SupportedHandshake).OfType<string>()
                .Select(p => MessageType.Parse(p + "/x")).FirstOrDefault(t => t.Protocol == "didexchange");
            var complete = _agent.NewMessage((version?.DocUri ?? DocUris.DidCommOrg) + $"didexchange/1.{version?.Minor ?? 1}/complete");
            complete = complete.WithThread(complete.Id, inv.Id);
            await _agent.Outbound.SendAsync(complete, existing, ct);
            return new OobReceiveResult(existing, true, "reuse-complete-sent");
        }
        if (o.ReuseStyle != "handshake-reuse")
            throw new OutOfBandException($"ReuseStyle '{o.ReuseStyle}' is unknown: use \"handshake-reuse\" or \"complete\"");

        // handshake-reuse: ~thread {thid: "<same as @id>", pthid: "<The @id of the Out-of-Band invitation>"},
        // in the invitation's out-of-band version and prefix.
        var reuse = _agent.NewMessage(inv.Type.DocUri + FamilyOf(inv.Type) + "/" + ReuseName);
        reuse = reuse.WithThread(reuse.Id, inv.Id);
        var pending = new PendingReuse(inv.Id, existing.Id);
        _pendingReuses[reuse.Id] = pending;
        try
        {
            await _agent.Outbound.SendAsync(reuse, existing, ct);
        }
        catch
        {
            _pendingReuses.TryRemove(reuse.Id, out _);
            throw;
        }

        if (o.ReuseAcceptTimeout is not { } wait)
            return new OobReceiveResult(existing, true, pending.Done.Task.IsCompletedSuccessfully && pending.Done.Task.Result ? "reuse-accepted" : "reuse-sent");

        bool accepted;
        try { accepted = await pending.Done.Task.WaitAsync(wait, ct); }
        catch (TimeoutException) { accepted = false; }
        _pendingReuses.TryRemove(reuse.Id, out _);
        if (accepted) return new OobReceiveResult(existing, true, "reuse-accepted");

        // "If this message is not received by the invitee, they should use the regular process."
        // (An invitation without requests~attach has handshake_protocols, so there is always a handshake to try.)
        _agent.Debug($"handshake-reuse {reuse.Id} for invitation {inv.Id} not accepted; falling back to a new handshake");
        return await RespondAsync(inv, o, ct);
    }

    /// <summary>
    /// "This message is a mechanism by which the invitee can detect a situation where the inviter no longer has a record
    /// of the connection": the reuse we sent (thid) on this connection succeeded. Announced as <see cref="AgentEvent.ReuseAccepted"/>.
    /// </summary>
    private void OnHandshakeReuseAccepted(InboundMessage inbound)
    {
        var m = inbound.Message;
        var thid = m.Thread?.Thid;
        if (thid == null || !_pendingReuses.TryGetValue(thid, out var pending))
        {
            _agent.Debug($"handshake-reuse-accepted {m.Id} answers no handshake-reuse of ours (thid {thid ?? "missing"}); ignored");
            return;
        }
        // It MUST come encrypted on the connection the reuse went out on.
        if (inbound.Connection?.Id != pending.ConnectionId)
        {
            _agent.Debug($"handshake-reuse-accepted {m.Id} did not arrive on connection {pending.ConnectionId}; ignored");
            return;
        }
        if (m.ParentThreadId != pending.InvitationId)
            _agent.Debug($"handshake-reuse-accepted {m.Id}: ~thread.pthid is '{m.ParentThreadId}', expected the invitation @id {pending.InvitationId}; accepted on thid");
        _pendingReuses.TryRemove(thid, out _);
        pending.Done.TrySetResult(true);
        _agent.Emit(new AgentEvent(AgentEvent.ReuseAccepted, pending.ConnectionId, thid, m.Json));
    }

    // ------------------------------------------------------------------ requests~attach

    /// <summary>The request messages this agent can answer: trust_ping/1.x ping (answered) and basicmessage/1.x message (recorded).</summary>
    public static bool CanAnswer(MessageType t) =>
        (t.Protocol == "trust_ping" && t.Major == 1 && t.Name == "ping") ||
        (t.Protocol == "basicmessage" && t.Major == 1 && t.Name == "message");

    /// <summary>"The receiver responds to one of the messages in the requests~attach array" - the first it can, in the sender's order.</summary>
    private static AgentMessage FirstAnswerable(OobInvitation inv) =>
        inv.Requests.FirstOrDefault(r => CanAnswer(r.Type))
        ?? throw new OutOfBandException($"none of the requests~attach messages can be answered by this agent ({string.Join(", ", inv.Requests.Select(r => r.Type.ToString()))}); " +
                                        "it answers trust_ping/1.0/ping and records basicmessage/1.0/message");

    /// <summary>
    /// Answers <paramref name="request"/> (attached to <paramref name="inv"/>) on <paramref name="connection"/>, or -
    /// without one - over the invitation's <paramref name="services"/> "as if received from the invitation's service".
    /// </summary>
    private async Task AnswerAsync(OobInvitation inv, AgentMessage request, ConnectionRecord? connection, IReadOnlyList<OobService>? services, CancellationToken ct)
    {
        _agent.Emit(new AgentEvent(AgentEvent.MessageReceived, connection?.Id, request.ThreadId, request.Json));
        if (request.Type.Protocol == "basicmessage") return;   // nothing to answer: recorded (the event above)

        // trust_ping: "response_requested ... defaults to true"; ping_response ~thread.thid = the ping's @id.
        var requested = request.Json["response_requested"] is not JsonValue v || !v.TryGetValue<bool>(out var b) || b;
        if (!requested) return;
        var response = _agent.NewMessage(request.Type.DocUri + TrustPingProtocol.Family + "/ping_response").WithThread(request.Id, inv.Id);
        if (connection != null) await _agent.Outbound.SendAsync(response, connection, ct);
        // A ping_response expects nothing further, so it goes without ~service, anoncrypted.
        else await SendToServicesAsync(response, services!, null, ct);
    }

    /// <summary>
    /// Sends <paramref name="message"/> connectionless in answer to <paramref name="invitation"/>, over its services in
    /// the sender's order. <c>~thread.pthid</c> is set to the invitation @id if the message has no thread. With
    /// <paramref name="expectResponse"/>, "the receiver must include a ~service decorator for the sender to use in
    /// responding": a fresh key of ours and our endpoint, and the message is authcrypted from that key (so the
    /// response can be encrypted to it). Returns the message as sent.
    /// </summary>
    public async Task<AgentMessage> SendConnectionlessAsync(JsonObject invitation, AgentMessage message, bool expectResponse, CancellationToken ct = default)
    {
        var inv = OobInvitation.Parse(invitation);
        var services = await inv.ResolveServicesAsync(_agent.Resolver, ct);
        if (message.Thread is null) message = message.WithThread(null, inv.Id);
        Ed25519KeyPair? sender = null;
        if (expectResponse)
        {
            sender = _agent.Wallet.CreateKey();
            message = message.With("~service", ServiceDecorator.For(sender.Verkey, _agent.Endpoint, []));
        }
        await SendToServicesAsync(message, services, sender, ct);
        return message;
    }

    /// <summary>"the receiver SHOULD prefer the entries in order": the first service that takes the message.</summary>
    private async Task SendToServicesAsync(AgentMessage message, IReadOnlyList<OobService> services, Ed25519KeyPair? sender, CancellationToken ct)
    {
        var failures = new List<string>();
        foreach (var s in services)
        {
            try
            {
                await _agent.Outbound.SendToServiceAsync(message, s.Service, sender, null, ct);
                return;
            }
            // A refused connection, an HTTP error or a timeout moves on to the next service; our own cancellation does not.
            catch (Exception e) when (!ct.IsCancellationRequested &&
                                      e is DeliveryException or HttpRequestException or System.Net.WebSockets.WebSocketException or OperationCanceledException)
            {
                failures.Add($"{s.Service.Endpoint}: {e.Message}");
            }
        }
        throw new DeliveryException("none of the invitation's services took the message: " + string.Join("; ", failures));
    }

    // ------------------------------------------------------------------ answer once connected

    private void AnswerWhenConnected(OobInvitation inv, ConnectionRecord connection)
    {
        AgentMessage request;
        try { request = FirstAnswerable(inv); }
        catch (OutOfBandException e)
        {
            _agent.Debug($"out-of-band invitation {inv.Id}: connecting, but {e.Message}");
            return;
        }
        if (Interlocked.Exchange(ref _listening, 1) == 0) _agent.Events += OnAgentEvent;
        _answerWhenConnected[connection.Id] = (inv, request);
        TryAnswerPending(connection.Id);   // the handshake may already be complete (e.g. replies on a return route)
    }

    private void OnAgentEvent(AgentEvent e)
    {
        if (e.Kind == AgentEvent.ConnectionState && e.ConnectionId is { } id && _answerWhenConnected.ContainsKey(id))
            TryAnswerPending(id);
    }

    private void TryAnswerPending(string connectionId)
    {
        var c = _agent.Store.GetConnection(connectionId);
        if (c is { State: "abandoned" or "error" } || c == null)
        {
            _answerWhenConnected.TryRemove(connectionId, out _);
            return;
        }
        if (!IsEstablished(c) || !_answerWhenConnected.TryRemove(connectionId, out var p)) return;
        _ = Task.Run(async () =>
        {
            try { await AnswerAsync(p.Invitation, p.Request, c, null, CancellationToken.None); }
            catch (Exception ex) { _agent.Debug($"answering requests~attach of invitation {p.Invitation.Id} on connection {connectionId} failed: {ex.Message}"); }
        });
    }

    /// <summary>
    /// Established enough to use: didexchange once completed (the requester has sent complete); connections/1.0 once
    /// the response arrived (RFC 0160: the invitee may then use the connection, its first message acting as the ack).
    /// </summary>
    private static bool IsEstablished(ConnectionRecord c) =>
        c.State is "complete" or "completed" || (c.Protocol.StartsWith("connections/", StringComparison.Ordinal) && c.IsActive);
}
