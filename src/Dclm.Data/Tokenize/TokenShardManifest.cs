using System.Text.Json;
using System.Text.Json.Serialization;

namespace Dclm.Data.Tokenize;

/// <summary>One binary shard listed in the manifest.</summary>
public sealed class TokenShardEntry
{
    /// <summary>File name relative to the manifest's folder.</summary>
    [JsonPropertyName("file")] public string File { get; set; } = "";
    /// <summary>Windows in the file; its size is windows × window_length × 4 bytes.</summary>
    [JsonPropertyName("windows")] public long Windows { get; set; }
    /// <summary>Lowercase hex SHA-256 of the file.</summary>
    [JsonPropertyName("sha256")] public string Sha256 { get; set; } = "";
}

/// <summary>
/// <c>manifest.json</c> of a tokenized dataset (format <c>dclm-tokens-v1</c>): shards of little-endian uint32
/// token ids, window-major, each window exactly <see cref="WindowLength"/> tokens of concatenated documents
/// each followed by <see cref="EotId"/>; windows are shuffled globally across shards with <see cref="Seed"/>.
/// </summary>
public sealed class TokenShardManifest
{
    /// <summary>The format name, "dclm-tokens-v1".</summary>
    [JsonPropertyName("format")] public string Format { get; set; } = FormatName;
    /// <summary>Tokenizer file used.</summary>
    [JsonPropertyName("tokenizer")] public string Tokenizer { get; set; } = "";
    /// <summary>SHA-256 of the tokenizer file.</summary>
    [JsonPropertyName("tokenizer_sha256")] public string TokenizerSha256 { get; set; } = "";
    /// <summary>Vocabulary size; every id is below it.</summary>
    [JsonPropertyName("vocab_size")] public int VocabularySize { get; set; }
    /// <summary>Tokens per window (2049 = 2048 inputs + 1 shifted target).</summary>
    [JsonPropertyName("window_length")] public int WindowLength { get; set; }
    /// <summary>End-of-text id appended after every document.</summary>
    [JsonPropertyName("eot_id")] public int EotId { get; set; }
    /// <summary>Always "uint32".</summary>
    [JsonPropertyName("dtype")] public string DataType { get; set; } = "uint32";
    /// <summary>Always "little".</summary>
    [JsonPropertyName("byte_order")] public string ByteOrder { get; set; } = "little";
    /// <summary>Windows over all shards.</summary>
    [JsonPropertyName("windows")] public long Windows { get; set; }
    /// <summary>Documents tokenized.</summary>
    [JsonPropertyName("documents")] public long Documents { get; set; }
    /// <summary>Tokens of the final partial window, which were dropped.</summary>
    [JsonPropertyName("dropped_tail_tokens")] public long DroppedTailTokens { get; set; }
    /// <summary>Shuffle seed.</summary>
    [JsonPropertyName("seed")] public int Seed { get; set; }
    /// <summary>Documents per source.</summary>
    [JsonPropertyName("sources")] public SortedDictionary<string, long> Sources { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Input files, relative to the input folder.</summary>
    [JsonPropertyName("inputs")] public List<string> Inputs { get; set; } = new();
    /// <summary>The shards.</summary>
    [JsonPropertyName("shards")] public List<TokenShardEntry> Shards { get; set; } = new();

    /// <summary>The format name written and accepted.</summary>
    public const string FormatName = "dclm-tokens-v1";

    /// <summary>Reads and checks a manifest; a wrong format or inconsistent sizes raise errors naming the file.</summary>
    public static TokenShardManifest Load(string path)
    {
        TokenShardManifest manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<TokenShardManifest>(System.IO.File.ReadAllText(path)) ?? throw new InvalidDataException($"{path}: empty manifest");
        }
        catch (JsonException error)
        {
            throw new InvalidDataException($"{path}: invalid manifest JSON ({error.Message})");
        }
        if (manifest.Format != FormatName) throw new InvalidDataException($"{path}: format '{manifest.Format}' is not {FormatName}");
        if (manifest.WindowLength < 2) throw new InvalidDataException($"{path}: window_length {manifest.WindowLength} is below 2");
        if (manifest.Shards.Sum(s => s.Windows) != manifest.Windows) throw new InvalidDataException($"{path}: shard windows do not add up to {manifest.Windows}");
        return manifest;
    }
}
