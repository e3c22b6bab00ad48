using System.CommandLine;
using Dclm.Checkpoints;
using Dclm.Inference.Speculation;

namespace Dclm.Cli.Commands;

/// <summary>--model-draft, --lookup-ngram and --draft-max: speculative decoding for commands that generate.</summary>
internal sealed class SpeculationOptions
{
    public Option<string?> DraftModel { get; } = new("--model-draft") { Description = "speculative decoding with this smaller model (GGUF or HF directory) sharing the model's vocabulary; output is unchanged" };
    public Option<int> LookupNgram { get; } = new("--lookup-ngram") { Description = "speculative decoding by prompt lookup: draft what followed the last N tokens earlier in the text (0 = off); output is unchanged" };
    public Option<int> DraftMax { get; } = new("--draft-max") { Description = $"most draft tokens checked per step (1-{SpeculativeDecoding.MaxDraftTokensLimit}); above 14, Q8_0/Q4_0 weights run the tile kernels, whose rounding may flip a near-tie", DefaultValueFactory = _ => 4 };

    public IEnumerable<Option> All => [DraftModel, LookupNgram, DraftMax];

    /// <param name="serving">For `dclm serve`: the help says what its engine allows.</param>
    public SpeculationOptions(bool serving = false)
    {
        if (!serving) return;
        LookupNgram.Description = "speculative decoding by prompt lookup over each request's prompt and output: draft what followed the last N tokens earlier (N >= 1); output is unchanged";
        DraftModel.Description = "speculative decoding with this smaller model (GGUF or HF directory) sharing the model's vocabulary, one KV cache of --ctx positions per running sequence, on the CPU; output is unchanged";
        DraftMax.Description = $"with --lookup-ngram or --model-draft: most draft tokens checked per sequence and step (1-{SpeculativeDecoding.MostExactDraftTokens})";
    }

    /// <summary>The options `dclm serve` takes.</summary>
    public IEnumerable<Option> Serving => [LookupNgram, DraftModel, DraftMax];

    /// <summary>
    /// `dclm serve`'s --lookup-ngram, --model-draft and --draft-max: (0, null, 4) without speculation. A server's step runs
    /// many sequences' drafts together, so --draft-max stops at the most that stays exact on every weight type, and an
    /// explicit --lookup-ngram below 1, both kinds of draft, or --draft-max alone, is a mistake rather than "off". The
    /// draft model's path must exist; the server loads it beside the model and checks its vocabulary.
    /// </summary>
    public (int LookupNgram, string? DraftModel, int DraftMax) ParseServing(ParseResult parse)
    {
        int ngram = parse.GetValue(LookupNgram), draftMax = parse.GetValue(DraftMax);
        string? path = parse.GetValue(DraftModel);
        bool lookup = parse.GetResult(LookupNgram) is { Implicit: false };
        if (lookup && ngram < 1) throw new ArgumentException($"--lookup-ngram {ngram} must be at least 1 (leave it out to serve without speculation)");
        if (lookup && path is not null) throw new ArgumentException("give at most one of --model-draft and --lookup-ngram");
        if (!lookup && path is null && parse.GetResult(DraftMax) is { Implicit: false }) throw new ArgumentException("--draft-max needs --lookup-ngram N or --model-draft P");
        if (draftMax is < 1 or > SpeculativeDecoding.MostExactDraftTokens)
            throw new ArgumentException($"--draft-max {draftMax} must be in [1, {SpeculativeDecoding.MostExactDraftTokens}] for dclm serve");
        if (path is not null && !File.Exists(path) && !Directory.Exists(path)) throw new ArgumentException($"--model-draft {path}: no such file or directory");
        return (lookup ? ngram : 0, path, draftMax);
    }

    /// <summary>
    /// The speculation the options ask for, or null; a draft model is loaded with <paramref name="pool"/> and
    /// <paramref name="loading"/> and returned in <paramref name="draftModel"/> for the caller to dispose.
    /// </summary>
    public SpeculativeDecoding? Parse(ParseResult parse, LoadedModel target, int capacity, Tensors.Compute.ComputePool pool,
        WeightLoading loading, out LoadedModel? draftModel)
    {
        draftModel = null;
        string? path = parse.GetValue(DraftModel);
        int ngram = parse.GetValue(LookupNgram), draftMax = parse.GetValue(DraftMax);
        if (ngram < 0) throw new ArgumentException($"--lookup-ngram = {ngram} must be 0 (off) or positive");
        if (draftMax is < 1 or > SpeculativeDecoding.MaxDraftTokensLimit)
            throw new ArgumentException($"--draft-max = {draftMax} must be in [1, {SpeculativeDecoding.MaxDraftTokensLimit}]");
        if (path is not null && ngram > 0) throw new ArgumentException("give at most one of --model-draft and --lookup-ngram");
        if (ngram > 0) return new SpeculativeDecoding(new PromptLookupDraft(ngram), draftMax);
        if (path is null) return null;
        draftModel = ModelLoader.Load(path, pool, loading);
        try
        {
            if (target.Tokenizer is { } t && draftModel.Tokenizer is { } d) DraftModelSource.RequireSharedVocabulary(t, d);
            if (capacity > draftModel.Config.ContextLength)
                throw new ArgumentException($"--model-draft: {path}: its context is {draftModel.Config.ContextLength} tokens; this generation may reach {capacity}");
            return new SpeculativeDecoding(new DraftModelSource(draftModel.Model, target.Config.VocabularySize, capacity), draftMax);
        }
        catch
        {
            draftModel.Dispose();
            draftModel = null;
            throw;
        }
    }
}
