using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Conformance.Harness.Grading;

/// <summary>
/// A case's verdict. PASS: every checked requirement held. WARN: a SHOULD was not met. FAIL: a MUST was broken
/// (with expected vs observed). UNSUPPORTED: the agent declares it does not do this (e.g. backchannel 501), with the
/// reason. ERROR: the harness or its infrastructure failed; says nothing about the agent.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<Grade>))]
public enum Grade { PASS, WARN, FAIL, UNSUPPORTED, ERROR }

/// <summary>RFC 2119 level of the requirement a check verifies.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<Level>))]
public enum Level { MUST, SHOULD, MAY }

/// <summary>One requirement checked against what was observed.</summary>
public sealed record Check(
    [property: JsonPropertyName("requirement")] string Requirement,
    [property: JsonPropertyName("level")] Level Level,
    [property: JsonPropertyName("ok")] bool Ok,
    [property: JsonPropertyName("expected")] string? Expected,
    [property: JsonPropertyName("observed")] string? Observed)
{
    [JsonIgnore] public Grade Grade => Ok ? Grade.PASS : Level == Level.MUST ? Grade.FAIL : Level == Level.SHOULD ? Grade.WARN : Grade.PASS;
}

/// <summary>One message seen on the wire during a case, as it goes into results.json and the case page.</summary>
public sealed record WireRecord(
    [property: JsonPropertyName("seq")] int Seq,
    [property: JsonPropertyName("at_ms")] long AtMs,
    [property: JsonPropertyName("direction")] string Direction,      // "peer->aut", "aut->peer", "a->b" for relays
    [property: JsonPropertyName("type")] string? Type,
    [property: JsonPropertyName("transport")] string? Transport,
    [property: JsonPropertyName("endpoint")] string? Endpoint,
    [property: JsonPropertyName("envelope")] string? Envelope,
    [property: JsonPropertyName("plaintext")] JsonObject? Plaintext,
    [property: JsonPropertyName("note")] string? Note);

/// <summary>Everything known about one case after it ran: this is what reports are made of.</summary>
public sealed class CaseResult
{
    [JsonPropertyName("id")] public string Id { get; set; } = "";
    [JsonPropertyName("rfc")] public string Rfc { get; set; } = "";
    [JsonPropertyName("title")] public string Title { get; set; } = "";
    [JsonPropertyName("requirement")] public string Requirement { get; set; } = "";
    [JsonPropertyName("level")] public Level Level { get; set; }
    [JsonPropertyName("section")] public string Section { get; set; } = "";
    [JsonPropertyName("description")] public string? Description { get; set; }
    [JsonPropertyName("aath")] public string? Aath { get; set; }
    [JsonPropertyName("counterpart")] public string? Counterpart { get; set; }
    [JsonPropertyName("agent")] public string Agent { get; set; } = "";
    [JsonPropertyName("peer")] public string Peer { get; set; } = "reference";
    [JsonPropertyName("grade")] public Grade Grade { get; set; }
    [JsonPropertyName("expected")] public string? Expected { get; set; }
    [JsonPropertyName("observed")] public string? Observed { get; set; }
    [JsonPropertyName("reason")] public string? Reason { get; set; }
    [JsonPropertyName("duration_ms")] public long DurationMs { get; set; }
    [JsonPropertyName("checks")] public List<Check> Checks { get; set; } = [];
    [JsonPropertyName("fixture")] public string? FixtureStatus { get; set; }
    [JsonPropertyName("fixture_diff")] public string? FixtureDiff { get; set; }
    [JsonPropertyName("attachments")] public List<string> Attachments { get; set; } = [];
    [JsonPropertyName("wire")] public List<WireRecord> Wire { get; set; } = [];
}

/// <summary>Thrown inside a case to stop it with UNSUPPORTED (the agent declared it does not do this).</summary>
public sealed class UnsupportedException(string reason) : Exception(reason);

/// <summary>Thrown inside a case to stop it at a broken MUST (the check is already recorded).</summary>
public sealed class CaseFailedException(string message) : Exception(message);
