using System.Text.Json;
using System.Text.Json.Nodes;

namespace Conformance.Mediator;

/// <summary>How a client packs a message for the mediator.</summary>
public enum PackMode
{
    /// <summary>ECDH-1PU authcrypt from the client (the default: mediation and pickup need an authenticated sender).</summary>
    Authcrypt,
    /// <summary>ECDH-ES anoncrypt (A256CBC-HS512); the mediator does not learn who sent it.</summary>
    Anoncrypt,
    /// <summary>A JWS signed by the client, not encrypted.</summary>
    Signed,
    /// <summary>Signed, then anoncrypted (authenticated to the mediator, sender hidden from the network).</summary>
    SignedThenAnoncrypt,
    /// <summary>No envelope at all (the mediator refuses these; for negative tests).</summary>
    Plaintext,
}

/// <summary>A report-problem 2.0 <c>problem-report</c> as received.</summary>
public sealed record V2Problem(string Code, string? Comment, IReadOnlyList<string> Args, string? Pthid, V2Message Message)
{
    /// <summary>The comment with <c>{1}</c>, <c>{2}</c>… replaced by the args ("Missing or null args MUST be replaced
    /// with a question mark character (?)"; "extra args MUST be appended to the main text as comma-separated values").</summary>
    public string Text
    {
        get
        {
            var text = Comment ?? Code;
            var used = new HashSet<int>();
            for (var i = 1; i <= 9; i++)
            {
                var token = "{" + i + "}";
                if (!text.Contains(token)) continue;
                used.Add(i);
                text = text.Replace(token, i <= Args.Count ? Args[i - 1] : "?");
            }
            var extra = Args.Where((_, i) => !used.Contains(i + 1)).ToList();
            return extra.Count == 0 ? text : text + " " + string.Join(", ", extra);
        }
    }

    public static V2Problem? From(V2Message m)
    {
        if (m.Type != MessageTypes.ProblemReport) return null;
        var args = m.Body["args"] is JsonArray a ? a.Select(x => x is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : x?.ToJsonString() ?? "?").ToList() : [];
        return new V2Problem(Str(m.Body, "code") ?? "", Str(m.Body, "comment"), args, m.Pthid, m);
    }

    internal static string? Str(JsonObject o, string name) =>
        o[name] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    public override string ToString() => $"{Code}: {Text}";
}

/// <summary>The mediator answered with a problem report (or an HTTP error) where a protocol reply was expected.</summary>
public sealed class V2ProblemException : Exception
{
    public V2ProblemException(V2Problem problem) : base($"problem report {problem.Code}: {problem.Text}") => Problem = problem;

    public V2ProblemException(string message, int? httpStatus = null, string? code = null) : base(message)
    {
        HttpStatus = httpStatus;
        HttpCode = code;
    }

    public V2Problem? Problem { get; }
    public int? HttpStatus { get; }
    /// <summary>The <c>code</c> of an HTTP 4xx JSON error body, when that is what came back.</summary>
    public string? HttpCode { get; }
    /// <summary>The problem code, from the problem report or the HTTP error body.</summary>
    public string? Code => Problem?.Code ?? HttpCode;
}

/// <summary>The result of one HTTP POST to the mediator.</summary>
/// <param name="StatusCode">The HTTP status (202 = accepted with nothing to return).</param>
/// <param name="MediaType">The response content type, if any.</param>
/// <param name="Body">The raw response body ("" when empty).</param>
/// <param name="Reply">The unpacked DIDComm reply, when the body held one.</param>
public sealed record V2HttpResult(int StatusCode, string? MediaType, string Body, V2Unpacked? Reply)
{
    public V2Problem? Problem => Reply is null ? null : V2Problem.From(Reply.Message);

    /// <summary>The <c>error</c> of a 4xx JSON body (<c>{"error":…,"code":…}</c>).</summary>
    public string? Error => JsonField("error");

    /// <summary>The <c>code</c> of a 4xx JSON body.</summary>
    public string? ErrorCode => JsonField("code");

    private string? JsonField(string name)
    {
        if (StatusCode < 400 || Body.Length == 0) return null;
        try { return JsonNode.Parse(Body) is JsonObject o ? V2Problem.Str(o, name) : null; }
        catch (JsonException) { return null; }
    }
}

/// <summary>A pickup 3.0 <c>status</c>.</summary>
public sealed record V2PickupStatus(int MessageCount, string? RecipientDid, bool LiveDelivery, long? TotalBytes, long? LongestWaitedSeconds,
    long? OldestReceivedTime, long? NewestReceivedTime, V2Message Message)
{
    public static V2PickupStatus From(V2Message m)
    {
        long? L(string n) => m.Body[n] is JsonValue v && v.TryGetValue<long>(out var x) ? x : null;
        var count = m.Body["message_count"] is JsonValue c && c.TryGetValue<int>(out var n) ? n
            : throw new V2ProblemException("status without message_count (REQUIRED)");
        var live = m.Body["live_delivery"] is JsonValue lv && lv.GetValueKind() == JsonValueKind.True;
        return new V2PickupStatus(count, V2Problem.Str(m.Body, "recipient_did"), live, L("total_bytes"), L("longest_waited_seconds"),
            L("oldest_received_time"), L("newest_received_time"), m);
    }
}

/// <summary>One message out of a pickup 3.0 <c>delivery</c>: the attachment id (to acknowledge) and the envelope.</summary>
public sealed record V2DeliveredMessage(string Id, byte[] Envelope);

/// <summary>A pickup 3.0 <c>delivery</c> (or, when the queue was empty, the <c>status</c> sent instead).</summary>
public sealed record V2Delivery(IReadOnlyList<V2DeliveredMessage> Messages, V2Message Message, V2PickupStatus? Status)
{
    public static V2Delivery From(V2Message m)
    {
        if (m.Type == MessageTypes.Status) return new V2Delivery([], m, V2PickupStatus.From(m));
        if (m.Type != MessageTypes.Delivery) throw new V2ProblemException($"expected a delivery or status, got {m.Type}");
        var list = new List<V2DeliveredMessage>(m.Attachments.Count);
        foreach (var a in m.Attachments)
            list.Add(new V2DeliveredMessage(a.Id ?? throw new V2ProblemException("a delivery attachment has no id (it is needed to acknowledge)"),
                a.GetBytes() ?? throw new V2ProblemException("a delivery attachment has no inline data")));
        return new V2Delivery(list, m, null);
    }
}

/// <summary>One entry of a keylist-update-response.</summary>
public sealed record V2KeylistUpdated(string RecipientDid, string Action, string Result)
{
    /// <summary>The entries of a keylist-update-response's "updated" list, or null when it has none.</summary>
    public static IReadOnlyList<V2KeylistUpdated>? ListFrom(V2Message m) =>
        m.Body["updated"] is JsonArray updated
            ? updated.OfType<JsonObject>()
                .Select(o => new V2KeylistUpdated(V2Problem.Str(o, "recipient_did") ?? "", V2Problem.Str(o, "action") ?? "", V2Problem.Str(o, "result") ?? ""))
                .ToList()
            : null;
}

/// <summary>A keylist (coordinate-mediation 2.0 keylist-query answer).</summary>
public sealed record V2Keylist(IReadOnlyList<string> RecipientDids, int? Count, int? Offset, int? Remaining, V2Message Message)
{
    public static V2Keylist From(V2Message m)
    {
        var keys = m.Body["keys"] is JsonArray a ? a.OfType<JsonObject>().Select(o => V2Problem.Str(o, "recipient_did") ?? "").ToList() : [];
        int? P(string n) => m.Body["pagination"] is JsonObject p && p[n] is JsonValue v && v.TryGetValue<int>(out var i) ? i : null;
        return new V2Keylist(keys, P("count"), P("offset"), P("remaining"), m);
    }
}
