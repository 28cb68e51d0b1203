namespace Conformance.Mediator;

/// <summary>
/// Identifies one inbound message for replay detection: its plaintext <c>id</c> ("MUST be unique to the sender") within
/// the namespace of its authenticated sender DID; anonymous messages share the empty sender.
/// </summary>
public readonly record struct ReplayKey(string Sender, string MessageId)
{
    public static ReplayKey Anonymous(string messageId) => new("", messageId);
}

/// <summary>One queued envelope. <see cref="Id"/> is the opaque attachment id pickup 3.0 delivers and acknowledges
/// ("an opaque value ... unique to the mediator"); ids are never reused.</summary>
public sealed record StoredMessage(string Id, string Owner, string Recipient, long ReceivedAtMs, byte[] Envelope);

/// <summary>The state of a queue (pickup 3.0 <c>status</c>). Times are Unix milliseconds.</summary>
public sealed record QueueStatus(int MessageCount, long TotalBytes, long? OldestReceivedMs, long? NewestReceivedMs);

/// <summary>coordinate-mediation 2.0 keylist-update-response <c>result</c>: "one of client_error, server_error, no_change, success".</summary>
public enum KeyUpdateResult { Success, NoChange, ClientError, ServerError }

/// <summary>A storage failure (database unavailable, disk full, query error). The mediator answers <see cref="ProblemCodes.Storage"/>.</summary>
public sealed class StorageException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The mediator's durable mail queue. Implementations: <see cref="SqliteMediatorStore"/> (embedded, WAL, group commit)
/// and <see cref="MemoryMediatorStore"/>; a PostgreSQL backend would implement the same contract.
/// <para>Contract:</para>
/// <list type="bullet">
/// <item>Every mutating call records its <see cref="ReplayKey"/> atomically with its effect: a message is queued (or
/// acknowledged messages deleted) if and only if its key was new. A repeated key changes nothing and reports the replay.</item>
/// <item>When a mutating call's task completes successfully, the change is durable (for SQLite: committed to the WAL with
/// the configured synchronous level). A forward is acknowledged to its sender only after that.</item>
/// <item>Messages are deleted only by <see cref="AcknowledgeAsync"/> (pickup 3.0: "Delivered messages MUST NOT be deleted
/// until delivery is acknowledged by a messages-received message"), and only the owner's.</item>
/// <item>Failures throw <see cref="StorageException"/>.</item>
/// </list>
/// </summary>
public interface IMessageQueue : IAsyncDisposable
{
    /// <summary>One line describing the backend and its durability settings.</summary>
    string Description { get; }

    /// <summary>Records <paramref name="key"/> and queues every one of <paramref name="envelopes"/> (all or none) for
    /// <paramref name="owner"/> (the mediated client) under <paramref name="recipient"/> (the keylist entry they were
    /// addressed to). Returns null when the key was seen before (nothing queued). The store may keep the envelopes'
    /// arrays as they are: do not modify them afterwards.</summary>
    ValueTask<IReadOnlyList<StoredMessage>?> EnqueueAsync(ReplayKey key, string owner, string recipient, IReadOnlyList<ReadOnlyMemory<byte>> envelopes, CancellationToken ct = default);

    /// <summary>Records <paramref name="key"/>; false when it was seen before.</summary>
    ValueTask<bool> TryMarkSeenAsync(ReplayKey key, CancellationToken ct = default);

    /// <summary>Records <paramref name="key"/> and deletes those of <paramref name="ids"/> that belong to
    /// <paramref name="owner"/>; returns how many were deleted, or null when the key was seen before (nothing deleted).</summary>
    ValueTask<int?> AcknowledgeAsync(ReplayKey key, string owner, IReadOnlyList<string> ids, CancellationToken ct = default);

    /// <summary>The queue of <paramref name="owner"/>, optionally only what was addressed to <paramref name="recipient"/>.</summary>
    ValueTask<QueueStatus> StatusAsync(string owner, string? recipient = null, CancellationToken ct = default);

    /// <summary>Up to <paramref name="limit"/> queued messages, oldest first, without removing them.</summary>
    ValueTask<IReadOnlyList<StoredMessage>> PeekAsync(string owner, string? recipient, int limit, CancellationToken ct = default);

    /// <summary>How many messages are queued in total (all owners).</summary>
    ValueTask<long> CountAllAsync(CancellationToken ct = default);
}

/// <summary>Conveniences over <see cref="IMessageQueue"/>.</summary>
public static class MessageQueueExtensions
{
    /// <summary>Queues one envelope; null when <paramref name="key"/> was seen before.</summary>
    public static async ValueTask<StoredMessage?> EnqueueAsync(this IMessageQueue queue, ReplayKey key, string owner, string recipient,
        ReadOnlyMemory<byte> envelope, CancellationToken ct = default)
        => (await queue.EnqueueAsync(key, owner, recipient, [envelope], ct))?[0];
}

/// <summary>
/// Mediation state (coordinate-mediation 2.0): which clients were granted mediation and which recipient DIDs each
/// registered with keylist-update. <see cref="OwnerOf"/> and <see cref="IsEnrolled"/> answer from memory (they are on the
/// forward hot path); writes are durable when their task completes.
/// </summary>
public interface IMediationStore
{
    bool IsEnrolled(string clientDid);

    ValueTask GrantAsync(string clientDid, CancellationToken ct = default);

    /// <summary>success: added; no_change: already this client's; client_error: registered by another client.</summary>
    ValueTask<KeyUpdateResult> AddKeyAsync(string clientDid, string recipientDid, CancellationToken ct = default);

    /// <summary>success: removed; no_change: not in this client's keylist.</summary>
    ValueTask<KeyUpdateResult> RemoveKeyAsync(string clientDid, string recipientDid, CancellationToken ct = default);

    /// <summary>This client's recipient DIDs in registration order: one page and the total.</summary>
    ValueTask<(IReadOnlyList<string> Keys, int Total)> ListKeysAsync(string clientDid, int offset, int limit, CancellationToken ct = default);

    /// <summary>The client that registered <paramref name="recipientDid"/>, or null.</summary>
    string? OwnerOf(string recipientDid);

    /// <summary>A persisted setting (the mediator keeps its identity here so a restart keeps its DID), or null.</summary>
    string? GetSetting(string name);

    void SetSetting(string name, string value);
}
