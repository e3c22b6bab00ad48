using System.Text.Json;

namespace Dclm.Formats.Safetensors;

/// <summary>Reads the weight_map of a Hugging Face <c>model.safetensors.index.json</c>.</summary>
internal static class SafetensorsIndex
{
    /// <summary>An index names every tensor once; even 100k tensors take far less than this.</summary>
    private const long MaximumIndexBytes = 100_000_000;

    /// <summary>The (tensor, shard file name) pairs in file order; shard names are checked to be plain file names.</summary>
    public static List<KeyValuePair<string, string>> ReadWeightMap(string indexPath)
    {
        byte[] bytes;
        try
        {
            long length = new FileInfo(indexPath).Length;
            if (length > MaximumIndexBytes)
                throw new ModelFileException(indexPath, $"is {length} bytes, more than an index can be ({MaximumIndexBytes})");
            bytes = File.ReadAllBytes(indexPath);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new ModelFileException(indexPath, $"cannot read: {error.Message}", error);
        }

        if (!System.Text.Unicode.Utf8.IsValid(bytes))
            throw new ModelFileException(indexPath, "is not valid UTF-8");
        JsonStrings.Check(bytes, indexPath, "the index");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes);
        }
        catch (JsonException error)
        {
            throw new ModelFileException(indexPath, $"is not valid JSON: {error.Message}", error);
        }

        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new ModelFileException(indexPath, "is not a JSON object");
            if (!root.TryGetProperty("weight_map", out JsonElement map) || map.ValueKind != JsonValueKind.Object)
                throw new ModelFileException(indexPath, "has no weight_map object");

            var pairs = new List<KeyValuePair<string, string>>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (JsonProperty entry in map.EnumerateObject())
            {
                if (entry.Value.ValueKind != JsonValueKind.String)
                    throw new ModelFileException(indexPath, $"weight_map entry '{Printable.Text(entry.Name)}' is a JSON {entry.Value.ValueKind}, expected a shard file name");
                string shard = entry.Value.GetString()!;
                if (shard.Length == 0 || shard != Path.GetFileName(shard) || shard is "." or "..")
                    throw new ModelFileException(indexPath, $"weight_map entry '{Printable.Text(entry.Name)}' names '{Printable.Text(shard)}', which is not a plain file name");
                if (!seen.Add(entry.Name))
                    throw new ModelFileException(indexPath, $"weight_map names tensor '{Printable.Text(entry.Name)}' twice");
                pairs.Add(new(entry.Name, shard));
            }
            if (pairs.Count == 0) throw new ModelFileException(indexPath, "weight_map is empty");
            return pairs;
        }
    }
}
