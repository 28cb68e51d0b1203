using System.Net;
using Conformance.Wire.Crypto;

namespace Conformance.Mediator;

/// <summary>How to run a <see cref="MediatorHost"/>.</summary>
public sealed class MediatorOptions
{
    /// <summary>The port for HTTP and WebSocket (one port for both); 0 picks a free one.</summary>
    public int Port { get; set; }

    /// <summary>The address to bind; loopback by default.</summary>
    public IPAddress Bind { get; set; } = IPAddress.Loopback;

    /// <summary>The host name written into the advertised endpoints (default: the bind address, or 127.0.0.1 for Any).</summary>
    public string? PublicHost { get; set; }

    /// <summary>The SQLite database file; null together with <see cref="InMemory"/> = false means a database in a new
    /// temporary folder (deleted on dispose).</summary>
    public string? DatabasePath { get; set; }

    /// <summary>Use <see cref="PostgresMediatorStore"/> with this Npgsql connection string instead of SQLite.</summary>
    public string? PostgresConnectionString { get; set; }

    /// <summary>Use <see cref="MemoryMediatorStore"/> (nothing survives a restart).</summary>
    public bool InMemory { get; set; }

    /// <summary>SQLite settings (durability level, group commit size, replay window).</summary>
    public SqliteStoreOptions Sqlite { get; set; } = new();

    /// <summary>A store to use instead of building one (it must implement both <see cref="IMessageQueue"/> and
    /// <see cref="IMediationStore"/>); the host disposes it.</summary>
    public IMessageQueue? Store { get; set; }

    /// <summary>Where keys (when a new identity is made), message ids and nonces come from. A seeded source gives a
    /// reproducible mediator DID (when the database holds no identity yet).</summary>
    public Entropy Entropy { get; set; } = Entropy.System;

    /// <summary>The largest inbound message accepted (HTTP body or WebSocket message), in bytes.</summary>
    public int MaxMessageBytes { get; set; } = 1024 * 1024;

    /// <summary>The most attachments and bytes one <c>delivery</c> carries (delivery-request limit is capped to this).</summary>
    public int MaxDeliveryMessages { get; set; } = 1000;

    public int MaxDeliveryBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>Live mode: the most messages one pushed <c>delivery</c> batches together.</summary>
    public int LiveBatchMessages { get; set; } = 256;

    /// <summary>Live mode: a pushed <c>delivery</c> closes once its envelopes reach this many bytes (one envelope always
    /// fits). The default keeps every buffer of a delivery (JSON, ciphertext, base64url text: about 3.6 times the
    /// envelopes) under the GC's large-object threshold (85 KB unless <c>System.GC.LOHThreshold</c> /
    /// <c>DOTNET_GCLOHThreshold</c> raises it): large-object churn made the collector the biggest cost of the bench.</summary>
    public int LiveBatchBytes { get; set; } = DefaultLiveBatchBytes();

    private static int DefaultLiveBatchBytes()
    {
        long loh = 85_000;
        if (GC.GetConfigurationVariables().TryGetValue("LOHThreshold", out var v) && v is long l && l > 0) loh = l;
        return (int)Math.Clamp(loh * 10 / 36, 8 * 1024, 1024 * 1024);
    }

    /// <summary>Live mode: when fewer than a full batch is waiting, the pump waits this long once for more before it
    /// packs (each delivery costs an authcrypt — three X25519 operations — whatever its size). Zero sends at once.</summary>
    public TimeSpan LiveLinger { get; set; } = TimeSpan.FromMilliseconds(2);

    /// <summary>Decides mediate-request: true grants, false denies (mediate-deny). Null grants everyone.</summary>
    public Func<string, bool>? MediationPolicy { get; set; }

    /// <summary>Receives one line per notable event (rejections, problem reports sent, outbound failures).</summary>
    public Action<string>? Log { get; set; }

    /// <summary>Endpoints to advertise in the mediator DID instead of the bound http:// and ws:// URLs.</summary>
    public IReadOnlyList<string>? AdvertisedEndpoints { get; set; }
}
