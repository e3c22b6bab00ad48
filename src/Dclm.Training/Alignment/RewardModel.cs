using Dclm.Checkpoints;
using Dclm.Checkpoints.Adapters;
using Dclm.Tensors.Compute;
using Dclm.Training.FineTuning;
using Dclm.Training.FineTuning.Data;

namespace Dclm.Training.Alignment;

/// <summary>
/// A trained reward model loaded for scoring: the base, the adapter of OUTPUT/adapter (PEFT layout) and the scalar head
/// of OUTPUT/<see cref="RewardHead.FileName"/>, as <c>dclm train-reward</c> writes them. Scores come from the same
/// training graph that trained them, run forward only.
/// </summary>
public sealed class RewardModel : IDisposable
{
    private readonly ComputePool _pool;
    private readonly TrainingModel _model;
    private readonly IChatRenderer? _chat;

    private RewardModel(LoadedModel loaded, ComputePool pool, TrainingModel model, RewardHead head, IChatRenderer? chat)
    {
        Loaded = loaded; _pool = pool; _model = model; Head = head; _chat = chat;
    }

    /// <summary>The base as the inference loader bound it.</summary>
    public LoadedModel Loaded { get; }
    /// <summary>The scalar head.</summary>
    public RewardHead Head { get; }

    /// <summary>Loads <paramref name="baseModel"/> with the reward model in <paramref name="directory"/>.</summary>
    public static RewardModel Load(string directory, string baseModel, int threads = 0, Func<LoadedModel, IChatRenderer?>? chat = null)
    {
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"{directory}: no such reward-model directory (dclm train-reward --output writes one)");
        var pool = new ComputePool(threads > 0 ? threads : Environment.ProcessorCount);
        LoadedModel? loaded = null;
        try
        {
            loaded = ModelLoader.Load(baseModel, pool);
            var adapters = LoraAdapters.From(PeftAdapter.Read(Path.Combine(directory, "adapter"), loaded.Config));
            var model = FrozenBaseModel.Build(loaded.Config, loaded.Model.Weights, adapters, pool);
            var head = RewardHead.Read(directory, loaded.Config.Dim);
            return new RewardModel(loaded, pool, model, head, chat?.Invoke(loaded));
        }
        catch
        {
            loaded?.Dispose();
            pool.Dispose();
            throw;
        }
    }

    /// <summary>The pairs of <paramref name="path"/> (TRL's layout), tokenized for this model.</summary>
    public List<PreferencePair> ReadPairs(string path, CancellationToken cancellation = default) =>
        new PreferenceReader(Loaded.RequireTokenizer(), _chat).Read(path, cancellation);

    /// <summary>The rewards of every pair and their loss; a pair longer than the model's context is an error naming its line.</summary>
    public PreferenceTerms[] Score(IReadOnlyList<PreferencePair> pairs, IProgress<int>? progress = null, CancellationToken cancellation = default)
    {
        if (pairs.Count == 0) return [];
        int context = Loaded.Config.ContextLength;
        foreach (var pair in pairs)
            if (pair.Length > context) throw new InvalidDataException($"line {pair.Line}: a side of {pair.Length} tokens is longer than the model's context of {context}");
        var objective = new RewardObjective(_model, Head, pairs.Max(p => p.Length));
        var terms = new PreferenceTerms[pairs.Count];
        for (int i = 0; i < pairs.Count; i++)
        {
            cancellation.ThrowIfCancellationRequested();
            terms[i] = objective.Evaluate(pairs[i]);
            progress?.Report(i + 1);
        }
        return terms;
    }

    /// <summary>
    /// The reward of one sequence of <paramref name="tokens"/> (prompt, completion, end-of-sequence: what the model was
    /// trained on; the end-of-sequence token is appended when missing): the head on the last token's hidden state.
    /// </summary>
    public double Score(int[] tokens, CancellationToken cancellation = default)
    {
        if (Loaded.Tokenizer?.EndOfSequenceId is int eos && (tokens.Length == 0 || tokens[^1] != eos)) tokens = [.. tokens, eos];
        if (tokens.Length > Loaded.Config.ContextLength) throw new ArgumentException($"a sequence of {tokens.Length} tokens is longer than the reward model's context of {Loaded.Config.ContextLength}");
        _model.DropoutKey = 0;
        var hidden = _model.HiddenStates(tokens, 1, tokens.Length, default, cancellation);
        return Head.Score(hidden[((tokens.Length - 1) * Head.Dim)..]);
    }

    public void Dispose()
    {
        Loaded.Dispose();
        _pool.Dispose();
    }
}
