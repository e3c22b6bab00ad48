using System.Text.Json.Nodes;
using Dclm.Models;
using Dclm.Tokenizers;

namespace Dclm.Export.Onnx;

/// <summary>
/// onnxruntime-genai's <c>genai_config.json</c> for an exported decoder, with the keys its model builder writes: the
/// decoder's file, sizes and input/output names, the special tokens, and greedy search by default. The KV cache grows
/// by copying (past_present_share_buffer false), since the graph concatenates past and new keys itself.
/// </summary>
internal static class GenAiConfig
{
    /// <summary>Decoder types onnxruntime-genai knows by name; any other architecture runs as its generic "decoder".</summary>
    private static readonly string[] KnownTypes = ["llama", "mistral", "qwen2", "qwen3"];

    /// <summary>The model type written for <paramref name="architecture"/>: the first of its names genai knows, else "decoder".</summary>
    public static string ModelType(Architecture architecture) => architecture.Names.FirstOrDefault(KnownTypes.Contains) ?? "decoder";

    /// <summary>The file's JSON for <paramref name="config"/> exported to <paramref name="modelFile"/>, run up to <paramref name="context"/> positions.</summary>
    public static JsonObject Create(ModelConfig config, TokenizerVocabulary? vocabulary, string modelFile, int context)
    {
        // genai needs ids within the vocabulary; a model without a tokenizer has none, and gets 0 (see docs/export.md).
        int eos = vocabulary?.EndOfSequenceId ?? 0;
        var model = new JsonObject
        {
            ["bos_token_id"] = vocabulary?.BeginningOfSequenceId ?? 0,
            ["context_length"] = context,
            ["decoder"] = new JsonObject
            {
                ["session_options"] = new JsonObject { ["log_id"] = "onnxruntime-genai", ["provider_options"] = new JsonArray() },
                ["filename"] = modelFile,
                ["head_size"] = config.HeadDim,
                ["hidden_size"] = config.Dim,
                ["inputs"] = new JsonObject
                {
                    ["input_ids"] = "input_ids",
                    ["attention_mask"] = "attention_mask",
                    ["past_key_names"] = "past_key_values.%d.key",
                    ["past_value_names"] = "past_key_values.%d.value",
                },
                ["outputs"] = new JsonObject
                {
                    ["logits"] = "logits",
                    ["present_key_names"] = "present.%d.key",
                    ["present_value_names"] = "present.%d.value",
                },
                ["num_attention_heads"] = config.Heads,
                ["num_hidden_layers"] = config.Layers,
                ["num_key_value_heads"] = config.KeyValueHeads,
            },
            ["eos_token_id"] = eos,
            ["pad_token_id"] = vocabulary?.PaddingId ?? eos,
            ["type"] = ModelType(config.Architecture),
            ["vocab_size"] = config.VocabularySize,
        };
        var search = new JsonObject
        {
            ["diversity_penalty"] = 0.0,
            ["do_sample"] = false,
            ["early_stopping"] = true,
            ["length_penalty"] = 1.0,
            ["max_length"] = context,
            ["min_length"] = 0,
            ["no_repeat_ngram_size"] = 0,
            ["num_beams"] = 1,
            ["num_return_sequences"] = 1,
            ["past_present_share_buffer"] = false,
            ["repetition_penalty"] = 1.0,
            ["temperature"] = 1.0,
            ["top_k"] = 50,
            ["top_p"] = 1.0,
        };
        return new JsonObject { ["model"] = model, ["search"] = search };
    }
}
