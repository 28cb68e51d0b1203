using System.Text;
using System.Text.Json.Nodes;
using Conformance.Harness.Grading;
using Conformance.Mediator;
using Conformance.Wire.DidComm2;

namespace Conformance.Suites.Support;

/// <summary>
/// The steps the mediator suites share, written as the Identus test suite's Background steps read: "Recipient sends a
/// mediate request message to the mediator / Mediator responds to Recipient with mediate grant message / Recipient
/// sends a keylist update message to the mediator with a new peer did", and "Sender sent a forward message to
/// Recipient". Each step records what it needed as a MUST, so a mediator that breaks a step FAILs at that step with
/// the message it sent as evidence.
/// </summary>
public static class V2Mediation
{
    /// <summary>A recipient the mediator granted mediation to, with its own DID in the keylist (so that mail forwarded
    /// to that DID is queued for it and it can decrypt it).</summary>
    public sealed record Enrolled(V2Client Client, string RoutingDid)
    {
        public string RecipientDid => Client.Did;
    }

    /// <summary>A message the sender forwarded (the basicmessage's content) and the mediator's answer to the forward.</summary>
    public sealed record Forwarded(string Text, V2HttpResult Answer);

    /// <summary>A WebSocket to the mediator whose requests wait the case's timeout; a mediator without a ws(s)
    /// endpoint in its DID makes the case UNSUPPORTED.</summary>
    public static async Task<V2Socket> ConnectAsync(CaseContext c, V2Client client)
    {
        if (client.MediatorWs is null) throw CaseContext.Unsupported("the mediator's DID advertises no ws:// or wss:// DIDCommMessaging endpoint");
        var socket = await client.ConnectAsync();
        socket.ReplyTimeout = c.Timeout;
        return socket;
    }

    /// <summary>mediate-request → mediate-grant, then keylist-update adding the recipient's DID → success.</summary>
    public static async Task<Enrolled> EnrolAsync(CaseContext c, string name = "Recipient", bool inbox = false, bool addKey = true)
    {
        var client = await c.V2ClientAsync(name, inbox);
        var routingDid = await GrantAsync(c, client);
        if (addKey) await AddKeyAsync(c, client, client.Did);
        return new Enrolled(client, routingDid);
    }

    /// <summary>"Recipient sends a mediate request message to the mediator; Mediator responds to Recipient with mediate
    /// grant message" — the grant's routing_did.</summary>
    public static async Task<string> GrantAsync(CaseContext c, V2Session session)
    {
        var reply = await ExpectAsync(c, "The mediator answers mediate-request with mediate-grant (coordinate-mediation 2.0 §Mediate Grant).",
            session, session.Client.NewMessage(MessageTypes.MediateRequest), MessageTypes.MediateGrant);
        var routing = reply.Body["routing_did"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
        c.Must("The mediate-grant carries routing_did, the \"DID of the mediator where forwarded messages should be sent\".",
            routing is not null && routing.StartsWith("did:", StringComparison.Ordinal), "body.routing_did: a DID", reply.Body.ToJsonString());
        return routing!;
    }

    /// <summary>keylist-update adding <paramref name="recipientDid"/> → one entry with action add and result success.</summary>
    public static Task AddKeyAsync(CaseContext c, V2Session session, string recipientDid) =>
        UpdateOneAsync(c, session, recipientDid, "add", "success",
            "The keylist-update-response reports the added recipient_did with action add and result success.");

    /// <summary>keylist-update with one (<paramref name="recipientDid"/>, <paramref name="action"/>) → its entry in the
    /// keylist-update-response MUST carry that action and <paramref name="result"/>.</summary>
    public static async Task UpdateOneAsync(CaseContext c, V2Session session, string recipientDid, string action, string result, string requirement)
    {
        var array = new JsonArray(new JsonObject { ["recipient_did"] = recipientDid, ["action"] = action });
        var reply = await ExpectAsync(c, "The mediator answers keylist-update with keylist-update-response (coordinate-mediation 2.0 §Keylist Response).",
            session, session.Client.NewMessage(MessageTypes.KeylistUpdate, new JsonObject { ["updates"] = array }), MessageTypes.KeylistUpdateResponse);
        var updated = V2KeylistUpdated.ListFrom(reply);
        c.Must("The keylist-update-response has an \"updated\" list.", updated is not null, "body.updated: [...]", reply.Body.ToJsonString());
        var entry = updated!.FirstOrDefault(u => u.RecipientDid == recipientDid);
        c.Must(requirement, entry?.Action == action && entry.Result == result, $"{{recipient_did: {Short(recipientDid)}, action: {action}, result: {result}}}",
            entry is null ? "no entry for that DID" : $"{{action: {entry.Action}, result: {entry.Result}}}");
    }

    /// <summary>keylist-query → the keylist (the mediator MUST answer with one).</summary>
    public static async Task<V2Keylist> KeylistAsync(CaseContext c, V2Session session, string requirement) =>
        V2Keylist.From(await ExpectAsync(c, requirement, session, session.Client.NewMessage(MessageTypes.KeylistQuery), MessageTypes.Keylist));

    /// <summary>Sends <paramref name="request"/> and requires a reply of one of <paramref name="types"/> on its thread;
    /// a problem report, another type, an HTTP error or silence FAILs the case with what came instead.</summary>
    public static async Task<V2Message> ExpectAsync(CaseContext c, string requirement, V2Session session, V2Message request, params string[] types)
    {
        V2Unpacked? reply;
        try { reply = await session.RequestAsync(request); }
        catch (Exception e) when (e is V2ProblemException or TimeoutException or HttpRequestException or DidCommException or TaskCanceledException)
        {
            c.Must(requirement, false, string.Join(" or ", types.Select(Name)), $"{request.Type} was answered with {e.Message}");
            throw; // not reached
        }
        c.Must(requirement, reply is not null && types.Contains(reply.Message.Type), string.Join(" or ", types.Select(Name)),
            reply is null ? "no reply (HTTP 202 with an empty body)" : Describe(reply.Message));
        c.Must("The reply is threaded to the request: thid = the request's id (DIDComm v2 §Threading).", reply!.Message.Thid == request.Id,
            $"thid {request.Id}", $"thid {reply.Message.Thid ?? "(none)"}");
        return reply.Message;
    }

    // ------------------------------------------------------------------ pickup

    public static async Task<V2PickupStatus> StatusAsync(CaseContext c, V2Session session, string? recipientDid = null)
    {
        var body = new JsonObject();
        if (recipientDid is not null) body["recipient_did"] = recipientDid;
        var reply = await ExpectAsync(c, "The mediator answers status-request with a status message (pickup 3.0 §Status).",
            session, session.Client.NewMessage(MessageTypes.StatusRequest, body), MessageTypes.Status);
        return ParseStatus(c, reply);
    }

    public static V2PickupStatus ParseStatus(CaseContext c, V2Message status)
    {
        c.Must("\"message_count is the only REQUIRED attribute\" of status (pickup 3.0 §Status).",
            status.Body["message_count"] is JsonValue v && v.TryGetValue<int>(out _), "body.message_count: an integer", status.Body.ToJsonString());
        return V2PickupStatus.From(status);
    }

    /// <summary>delivery-request → a delivery (or the status sent when nothing is queued).</summary>
    public static async Task<V2Delivery> DeliveryRequestAsync(CaseContext c, V2Session session, int limit, string? recipientDid = null)
    {
        var body = new JsonObject { ["limit"] = limit };
        if (recipientDid is not null) body["recipient_did"] = recipientDid;
        var reply = await ExpectAsync(c, "The mediator answers delivery-request with a delivery, or with a status when nothing is queued (pickup 3.0 §Delivery Request).",
            session, session.Client.NewMessage(MessageTypes.DeliveryRequest, body), MessageTypes.Delivery, MessageTypes.Status);
        return ParseDelivery(c, reply);
    }

    public static V2Delivery ParseDelivery(CaseContext c, V2Message m)
    {
        if (m.Type == MessageTypes.Status) ParseStatus(c, m);
        else c.Must("Every delivery attachment has an id (to acknowledge) and inline data: \"The id of each attachment is used to confirm receipt\".",
            m.Attachments.All(a => a.Id is not null && a.GetBytes() is not null), "attachments[].id and data", m.ToJson());
        return V2Delivery.From(m);
    }

    /// <summary>messages-received → the mediator's answer (a status, SHOULD), or null when it sent none.</summary>
    public static async Task<V2PickupStatus?> MessagesReceivedAsync(CaseContext c, V2Session session, IEnumerable<string> ids)
    {
        var request = session.Client.NewMessage(MessageTypes.MessagesReceived,
            new JsonObject { ["message_id_list"] = new JsonArray(ids.Select(i => (JsonNode)i).ToArray()) });
        V2Unpacked? reply;
        try { reply = await session.RequestAsync(request); }
        catch (TimeoutException) { reply = null; }
        catch (V2ProblemException e)
        {
            c.Must("The mediator accepts messages-received for messages it delivered.", false, "accepted (a status, or 202)", e.Message);
            throw;
        }
        if (reply is not null && V2Problem.From(reply.Message) is { } p)
            c.Must("The mediator accepts messages-received for messages it delivered.", false, "accepted (a status, or 202)", p.ToString());
        c.Should("\"The mediator SHOULD send an updated status message reflecting the changes to the queue\" (pickup 3.0 §Messages Received).",
            reply?.Message.Type == MessageTypes.Status, "status", reply is null ? "nothing" : reply.Message.Type);
        return reply?.Message.Type == MessageTypes.Status ? ParseStatus(c, reply.Message) : null;
    }

    /// <summary>Decrypts delivered envelopes with the recipient's keys → the basicmessage texts, in delivery order.</summary>
    public static List<string> Open(CaseContext c, V2Client recipient, IEnumerable<V2DeliveredMessage> delivered)
    {
        var texts = new List<string>();
        foreach (var d in delivered)
        {
            string? text;
            try { text = Str(recipient.Unpack(d.Envelope).Message.Body, "content"); }
            catch (DidCommException e) { text = null; c.Note($"attachment {d.Id} could not be decrypted: {e.Message}"); }
            c.Must("Each delivered attachment is the forwarded message in encrypted form, unchanged: the recipient decrypts it (\"The ONLY valid type of attachment for this message is a DIDComm v2 Message in encrypted form\").",
                text is not null, "an envelope the recipient decrypts", Encoding.UTF8.GetString(d.Envelope)[..Math.Min(120, d.Envelope.Length)]);
            texts.Add(text!);
        }
        return texts;
    }

    // ------------------------------------------------------------------ routing

    /// <summary>
    /// "Sender sent a forward message to Recipient": a basicmessage encrypted for <paramref name="recipientDid"/>
    /// (anoncrypt), wrapped in a routing 2.0 forward with next = <paramref name="recipientDid"/>, anoncrypted to the
    /// mediator and POSTed. The mediator MUST accept it (HTTP 2xx, no problem report).
    /// </summary>
    /// <param name="attachAsJson">The encrypted message as the attachment's "json" data (else "base64").</param>
    /// <param name="headersFor">Headers of the forward itself, given its id (e.g. please_ack).</param>
    public static async Task<Forwarded> ForwardAsync(CaseContext c, V2Client sender, string recipientDid, string text, bool mustAccept = true,
        bool attachAsJson = true, Func<string, JsonObject>? headersFor = null)
    {
        var (forward, envelope) = WrapForward(sender, recipientDid, text, attachAsJson, headersFor);
        var answer = await sender.PostEnvelopeAsync(envelope, forward);
        if (mustAccept)
            c.Must("The mediator accepts a forward to an enrolled recipient DID (HTTP 2xx, no problem report) (routing 2.0).",
                IsAccepted(answer), "HTTP 202", DescribeAnswer(answer));
        return new Forwarded(text, answer);
    }

    /// <summary>HTTP 2xx and no problem report: the mediator took the message.</summary>
    public static bool IsAccepted(V2HttpResult answer) => answer.StatusCode is >= 200 and < 300 && answer.Problem is null;

    public static string DescribeAnswer(V2HttpResult answer) =>
        $"HTTP {answer.StatusCode}{(answer.Problem is { } p ? ", " + p : answer.Body.Length > 0 ? ": " + answer.Body[..Math.Min(160, answer.Body.Length)] : "")}";

    /// <summary>A basicmessage 2.0 for <paramref name="recipientDid"/>, encrypted for it (anoncrypt), wrapped in a
    /// routing 2.0 forward with next = <paramref name="recipientDid"/>: the forward's plaintext and its envelope,
    /// anoncrypted to the mediator.</summary>
    public static (V2Message Forward, string Envelope) WrapForward(V2Client sender, string recipientDid, string text,
        bool attachAsJson = true, Func<string, JsonObject>? headersFor = null)
    {
        var message = new V2Message
        {
            Id = sender.Entropy.NewUuid(),
            Type = MessageTypes.BasicMessageMessage,
            To = [recipientDid],
            CreatedTime = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            Body = new JsonObject { ["content"] = text },
        };
        var inner = Encoding.UTF8.GetBytes(sender.PackFor(message, recipientDid));
        var forward = V2Routing.Forward(recipientDid, inner, sender.Entropy, attachAsJson, to: [sender.MediatorDid]);
        if (headersFor is not null)
            forward = new V2Message { Id = forward.Id, Type = forward.Type, To = forward.To, Body = forward.Body, Attachments = forward.Attachments, Headers = headersFor(forward.Id) };
        var envelope = V2Packer.Anoncrypt(forward, sender.MediatorDid, sender.Entropy, ContentAlg.XC20P);
        return (forward, envelope);
    }

    // ------------------------------------------------------------------ problem reports

    /// <summary>Checks a problem report's form (report-problem 2.0): pthid REQUIRED, code REQUIRED and well formed.</summary>
    public static V2Problem RequireProblem(CaseContext c, string requirement, V2Message? reply, string expectedCode, string? aboutId)
    {
        var problem = reply is null ? null : V2Problem.From(reply);
        c.Must(requirement, problem is not null, $"a problem report ({expectedCode})", reply is null ? "nothing" : Describe(reply));
        c.Must("A problem report has pthid, \"the thid of the thread in which the problem occurred\" (report-problem 2.0: REQUIRED).",
            aboutId is null ? problem!.Pthid is not null : problem!.Pthid == aboutId, aboutId is null ? "a pthid" : $"pthid {aboutId}", $"pthid {problem.Pthid ?? "(none)"}");
        c.Must("The problem code has a sorter (e or w) and a scope (p, m or a state name) followed by descriptors (DIDComm v2 §Problem Codes).",
            System.Text.RegularExpressions.Regex.IsMatch(problem.Code, @"^[ew]\.[a-z0-9-]+(\.[a-z0-9_-]+)+$"), "e.p.… / e.m.…", problem.Code);
        return problem;
    }

    // ------------------------------------------------------------------ small things

    public static string? Str(JsonObject? o, string name) => o?[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    public static string Name(string type) => type[(type.LastIndexOf('/') + 1)..];

    public static string Short(string did) => did.Length <= 48 ? did : did[..44] + "…";

    public static string Describe(V2Message m) =>
        V2Problem.From(m) is { } p ? $"problem-report {p.Code} ({p.Comment})" : $"{Name(m.Type)} {m.Body.ToJsonString()[..Math.Min(200, m.Body.ToJsonString().Length)]}";
}
