using System.Runtime.InteropServices;
using System.Text.Json;
using Dclm.Embeddings;
using Dclm.Server.Hosting;
using Microsoft.AspNetCore.Http;

namespace Dclm.Server.Api;

/// <summary>
/// POST /v1/embeddings in OpenAI's shape: input a string, an array of strings, an array of token ids or an array
/// of such arrays; encoding_format float or base64 (little-endian float32); dimensions only where the model allows
/// (these models have one width). An input longer than the model's limit is refused unless the request sets our
/// extension "truncate": true (as text-embeddings-inference does).
/// </summary>
internal sealed class EmbeddingEndpoints(RetrievalHost retrieval, ServerOptions options)
{
    /// <summary>OpenAI's limit on inputs per request.</summary>
    public const int MaxInputs = 2048;

    public async Task EmbeddingsAsync(HttpContext context)
    {
        var dto = await RequestReader.ReadAsync(context, ApiJsonContext.Default.EmbeddingRequestDto, options.MaxRequestBodyBytes);
        var served = Resolve(dto.Model);
        var embedder = served.Embedder;
        bool base64 = dto.EncodingFormat switch
        {
            null or "float" => false,
            "base64" => true,
            _ => throw ApiException.BadRequest($"encoding_format '{Shorten(dto.EncodingFormat)}' is not supported; use float or base64", "encoding_format"),
        };
        if (dto.Dimensions is int dimensions && dimensions != embedder.Dimensions)
            throw ApiException.BadRequest(dimensions < 1
                ? $"dimensions = {dimensions} must be positive"
                : $"{embedder.ModelId} makes {embedder.Dimensions}-dimensional vectors only; it was not trained to be cut to {dimensions}", "dimensions");
        var inputs = Inputs(dto.Input, embedder, dto.Truncate);
        var vectors = await Task.Run(() => embedder.EmbedTokens(inputs, context.RequestAborted), context.RequestAborted);
        int tokens = inputs.Sum(i => i.Length);
        context.Response.ContentType = "application/json";
        await using var writer = new Utf8JsonWriter(context.Response.BodyWriter.AsStream());
        Write(writer, vectors, embedder.ModelId, tokens, base64);
    }

    private ServedEmbedder Resolve(string? model)
    {
        if (!retrieval.ServesEmbeddings)
            throw new ApiException(StatusCodes.Status404NotFound, "this server serves no embedding model; start it with --embedder minilm (or a model's path, or 'model' for the served model's own)", "model", "model_not_found");
        if (!retrieval.IsReady)
            throw new ApiException(StatusCodes.Status503ServiceUnavailable,
                retrieval.LoadError is null ? "the embedding models are still loading; retry shortly" : $"the embedding models failed to load: {retrieval.LoadError}", code: "model_not_ready");
        return retrieval.FindEmbedder(model) ?? throw new ApiException(StatusCodes.Status404NotFound,
            $"the embedding model '{Shorten(model!)}' does not exist; this server embeds with {string.Join(", ", retrieval.Embedders.Select(e => $"'{e.Embedder.ModelId}'"))}", "model", "model_not_found");
    }

    /// <summary>The framed model inputs of the request, each checked: not empty, ids in the vocabulary, within the limit.</summary>
    private static List<int[]> Inputs(JsonElement input, ITextEmbedder embedder, bool truncate)
    {
        var texts = new List<int[]>();
        switch (input.ValueKind)
        {
            case JsonValueKind.String:
                texts.Add(TextTokens(input, embedder, 0));
                break;
            case JsonValueKind.Array:
                int count = input.GetArrayLength();
                if (count == 0) throw ApiException.BadRequest("input must not be an empty array", "input");
                var first = input[0];
                if (first.ValueKind == JsonValueKind.Number) { texts.Add(TokenIds(input, embedder, 0)); break; }
                if (count > MaxInputs) throw ApiException.BadRequest($"input holds {count} entries; at most {MaxInputs} are allowed per request", "input");
                int index = 0;
                foreach (var item in input.EnumerateArray())
                {
                    texts.Add(item.ValueKind switch
                    {
                        JsonValueKind.String when first.ValueKind == JsonValueKind.String => TextTokens(item, embedder, index),
                        JsonValueKind.Array when first.ValueKind == JsonValueKind.Array => TokenIds(item, embedder, index),
                        _ => throw ApiException.BadRequest($"input[{index}]: an input array holds strings only or token arrays only", "input"),
                    });
                    index++;
                }
                break;
            case JsonValueKind.Undefined or JsonValueKind.Null:
                throw ApiException.BadRequest("input is required: a string, an array of strings, or token ids", "input");
            default:
                throw ApiException.BadRequest("input must be a string, an array of strings, an array of token ids, or an array of such arrays", "input");
        }
        var framed = new List<int[]>(texts.Count);
        for (int i = 0; i < texts.Count; i++)
        {
            int length = texts[i].Length + embedder.SpecialTokenCount;
            if (length > embedder.MaxTokens && !truncate)
                throw ApiException.BadRequest($"input[{i}] is {length} tokens long; {embedder.ModelId} reads at most {embedder.MaxTokens}. Shorten it, or send \"truncate\": true to embed its first {embedder.MaxTokens} tokens", "input");
            if (length == 0) throw ApiException.BadRequest($"input[{i}] has no tokens", "input");
            framed.Add(embedder.Frame(texts[i]));
        }
        return framed;
    }

    private static int[] TextTokens(JsonElement item, ITextEmbedder embedder, int index)
    {
        string text = item.GetString()!;
        if (text.Length == 0) throw ApiException.BadRequest($"input[{index}] is an empty string", "input");
        return embedder.Tokenize(text);
    }

    private static int[] TokenIds(JsonElement array, ITextEmbedder embedder, int index)
    {
        if (array.GetArrayLength() == 0) throw ApiException.BadRequest($"input[{index}] is an empty token array", "input");
        var ids = new int[array.GetArrayLength()];
        int k = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out int id))
                throw ApiException.BadRequest($"input[{index}]: token ids must be integers", "input");
            if ((uint)id >= (uint)embedder.VocabularySize)
                throw ApiException.BadRequest($"input[{index}]: token id {id} is outside {embedder.ModelId}'s vocabulary of {embedder.VocabularySize}", "input");
            ids[k++] = id;
        }
        return ids;
    }

    private static void Write(Utf8JsonWriter writer, float[][] vectors, string model, int tokens, bool base64)
    {
        writer.WriteStartObject();
        writer.WriteString("object", "list");
        writer.WriteStartArray("data");
        for (int i = 0; i < vectors.Length; i++)
        {
            writer.WriteStartObject();
            writer.WriteString("object", "embedding");
            writer.WriteNumber("index", i);
            if (base64) writer.WriteBase64String("embedding", MemoryMarshal.AsBytes(vectors[i].AsSpan()));
            else
            {
                writer.WriteStartArray("embedding");
                foreach (float value in vectors[i]) writer.WriteNumberValue(value);
                writer.WriteEndArray();
            }
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteString("model", model);
        writer.WriteStartObject("usage");
        writer.WriteNumber("prompt_tokens", tokens);
        writer.WriteNumber("total_tokens", tokens);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static string Shorten(string text) => text.Length <= 100 ? text : text[..100] + "…";
}
