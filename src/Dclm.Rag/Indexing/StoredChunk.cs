using System.Text.Json;
using System.Text.Json.Serialization;

namespace Dclm.Rag.Indexing;

/// <summary>A chunk as the index stores it (one line of chunks.jsonl); its id is its line number.</summary>
/// <param name="Source">The document's source: its file path or JSONL id.</param>
/// <param name="File">The file the document came from.</param>
/// <param name="Chunk">The chunk's position within its document, from 0.</param>
/// <param name="Start">First character of the chunk in the document's text.</param>
/// <param name="End">One past its last character.</param>
/// <param name="Text">The chunk's text.</param>
public sealed record StoredChunk(
    [property: JsonPropertyName("source")] string Source,
    [property: JsonPropertyName("file")] string File,
    [property: JsonPropertyName("chunk")] int Chunk,
    [property: JsonPropertyName("start")] int Start,
    [property: JsonPropertyName("end")] int End,
    [property: JsonPropertyName("text")] string Text)
{
    internal static void WriteAll(Stream stream, IEnumerable<StoredChunk> chunks)
    {
        using var writer = new StreamWriter(stream, new System.Text.UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
        foreach (var chunk in chunks) writer.WriteLine(JsonSerializer.Serialize(chunk));
    }

    internal static List<StoredChunk> ReadAll(string path)
    {
        var chunks = new List<StoredChunk>();
        int line = 0;
        foreach (var text in System.IO.File.ReadLines(path))
        {
            line++;
            try
            {
                chunks.Add(JsonSerializer.Deserialize<StoredChunk>(text) ?? throw new InvalidDataException($"{path}:{line}: empty chunk"));
            }
            catch (JsonException error)
            {
                throw new InvalidDataException($"{path}:{line}: damaged chunk ({error.Message})", error);
            }
        }
        return chunks;
    }
}
