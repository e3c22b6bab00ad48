using System.Text.Json;
using System.Text.Json.Serialization;

namespace Dclm.Rag.Indexing;

/// <summary>What an index generation holds and how it was made (manifest.json).</summary>
public sealed record IndexManifest
{
    /// <summary>The layout version this build writes and reads.</summary>
    public const int CurrentFormat = 2;

    /// <summary>Layout version.</summary>
    public int Format { get; init; } = CurrentFormat;
    /// <summary>The embedder as the user named it (<c>minilm</c> or a path), to reopen it for queries.</summary>
    public required string Embedder { get; init; }
    /// <summary>The embedder's model id.</summary>
    public required string EmbedderModel { get; init; }
    /// <summary>Vector width.</summary>
    public required int Dimensions { get; init; }
    /// <summary>Tokens per chunk (the embedder's tokens).</summary>
    public required int ChunkTokens { get; init; }
    /// <summary>Tokens shared by consecutive chunks.</summary>
    public required int Overlap { get; init; }
    /// <summary>Tokens per dense window: each chunk is embedded as windows of at most this many tokens.</summary>
    public required int WindowTokens { get; init; }
    /// <summary>Tokens shared by consecutive windows of a chunk.</summary>
    public required int WindowOverlap { get; init; }
    /// <summary>Chunks in the index.</summary>
    public required int Chunks { get; init; }
    /// <summary>Dense vectors in the index (the windows of every chunk).</summary>
    public required int Vectors { get; init; }
    /// <summary>When this generation was written (UTC).</summary>
    public DateTimeOffset Created { get; init; } = DateTimeOffset.UtcNow;
    /// <summary>Every indexed file with the chunks it produced.</summary>
    public required IReadOnlyList<IndexedFile> Files { get; init; }

    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Reads a manifest, naming <paramref name="path"/> in any error.</summary>
    public static IndexManifest Read(string path)
    {
        try
        {
            var manifest = JsonSerializer.Deserialize<IndexManifest>(File.ReadAllBytes(path), Json) ?? throw new InvalidDataException($"{path}: empty manifest");
            if (manifest.Format != CurrentFormat) throw new InvalidDataException($"{path}: index format {manifest.Format}, this build reads {CurrentFormat}; rebuild the index");
            return manifest;
        }
        catch (JsonException error)
        {
            throw new InvalidDataException($"{path}: damaged manifest ({error.Message})", error);
        }
    }
}

/// <summary>One input file as it was when indexed.</summary>
/// <param name="Path">Full path.</param>
/// <param name="Length">Size in bytes.</param>
/// <param name="Sha256">Hex SHA-256 of the contents: an unchanged file is reused by <c>--update</c>.</param>
/// <param name="FirstChunk">Id of its first chunk; its chunks are consecutive.</param>
/// <param name="ChunkCount">How many chunks it produced.</param>
/// <param name="TextBytes">UTF-8 bytes of its extracted text.</param>
public sealed record IndexedFile(string Path, long Length, string Sha256, int FirstChunk, int ChunkCount, long TextBytes);
