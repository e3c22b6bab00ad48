using System.Diagnostics;
using System.Globalization;
using Dclm.Training.Checkpointing;
using Dclm.Training.Distributed;
using Dclm.Training.Reporting;

namespace Dclm.Training.Alignment.Reinforcement;

/// <summary>
/// The loop of PPO and GRPO: each step collects a rollout batch with the current adapters (<see cref="PolicyRun.Collect"/>),
/// then makes <see cref="PolicyOptions.UpdateEpochs"/> passes over it in a seeded order, one AdamW update per
/// --batch-size × --grad-accum completions (the loss a mean over their tokens); validates by greedy completions of the
/// held-out prompts, logs metrics.jsonl (reward, KL, losses, clip fraction), plots and checkpoints on the fine-tuning
/// intervals. Ctrl+C during the rollouts discards them (the prompt cursor is rewound) and saves; during the updates it
/// finishes the step first, then saves.
/// </summary>
public sealed class PolicyTrainer(PolicyRun run)
{
    /// <summary>Runs until the configured number of rollout batches or until <paramref name="cancellation"/> fires.</summary>
    public TrainingResult Run(IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default)
    {
        var o = run.Settings;
        int total = run.TotalSteps;
        var state = run.Resumed ?? new TrainerState { Seed = o.Seed, SourceNames = [Path.GetFileName(o.Data)], SourceSamples = [0] };
        using var loop = new TrainingLoop(o.Output, state, total, true, "alignment.png", PolicyPlot.Write);
        long tokens = state.Tokens;
        string? Save(int step) => run.Checkpoints.Save(run.WriteWeights, run.Optimizer, state with
        {
            Step = step, Samples = run.Order.Samples, SourceSamples = [run.Order.Samples], Tokens = tokens, ElapsedSeconds = loop.ElapsedSeconds,
        });

        if (state.Step == 0)
        {
            try
            {
                if (run.EvaluateGreedy(cancellation) is { } initial)
                {
                    loop.Metrics!.Write(new MetricsRecord { Step = 0, ValidationReward = initial.Reward, ValidationKullbackLeibler = initial.KullbackLeibler });
                    progress?.Report(new TrainingProgress(0, total, 0, double.NaN, 0, 0, 0, null, run.Method, TimeSpan.Zero, null, Environment.WorkingSet,
                        $"val reward {Format(initial.Reward)}"));
                }
            }
            catch (OperationCanceledException) when (cancellation.IsCancellationRequested) { return loop.Stop(0, Save); }
        }
        for (int step = state.Step; step < total; step++)
        {
            if (cancellation.IsCancellationRequested) return loop.Stop(step, Save);
            var clock = Stopwatch.StartNew();
            long cursor = run.Order.Samples;
            RolloutBatch batch;
            try { batch = run.Collect(step, cancellation); }
            catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
            {
                run.Order.Samples = cursor;
                return loop.Stop(step, Save);
            }
            double learningRate = run.Schedule.At(step);
            var (terms, norm) = Update(batch.Sequences, step, learningRate);
            int stepTokens = batch.Sequences.Sum(s => s.Tokens.Length);
            tokens += stepTokens;
            double loss = terms.Loss / Math.Max(1, terms.Tokens);
            loop.Trained(loss);
            int done = step + 1;

            (double Reward, double KullbackLeibler, List<string> Completions)? validation = null;
            if (loop.Validates(done, o.EvalEvery)) validation = run.EvaluateGreedy();
            double tokensPerSecond = stepTokens / Math.Max(1e-9, clock.Elapsed.TotalSeconds);
            loop.Metrics!.Write(new MetricsRecord
            {
                Step = done, Tokens = tokens, Loss = loss, LearningRate = learningRate, GradientNorm = norm, TokensPerSecond = tokensPerSecond,
                Reward = batch.Reward, KullbackLeibler = batch.KullbackLeibler, CompletionLength = batch.Length,
                ValueLoss = run.ValueHead is null ? null : terms.ValueLoss / Math.Max(1, terms.Tokens),
                ClipFraction = (double)terms.Clipped / Math.Max(1, terms.Tokens),
                ValidationReward = validation?.Reward, ValidationKullbackLeibler = validation?.KullbackLeibler,
            });
            if (validation is not null) loop.Plot();
            if (loop.Checkpoints(done, o.CheckpointEvery)) loop.LastCheckpoint = Save(done);
            string detail = $"reward {Format(batch.Reward)} kl {Format(batch.KullbackLeibler)}" + (validation is { } v ? $" val reward {Format(v.Reward)}" : "");
            progress?.Report(new TrainingProgress(done, total, tokens, loss, learningRate, norm, tokensPerSecond, null, run.Method, loop.Elapsed,
                loop.Remaining(done), Environment.WorkingSet, detail));
        }
        return loop.Finish(Save, run.WriteFinal, DataParallel.Single);
    }

    /// <summary>The epochs over one rollout batch; returns the summed terms of every update and the last gradient norm.</summary>
    private (PolicyTerms Terms, double Norm) Update(List<RolloutSequence> sequences, int step, double learningRate)
    {
        var o = run.Settings;
        int perUpdate = o.BatchSize * o.GradientAccumulation;
        var terms = default(PolicyTerms);
        double norm = 0;
        var order = Enumerable.Range(0, sequences.Count).ToArray();
        for (int epoch = 0; epoch < run.Options.UpdateEpochs; epoch++)
        {
            var random = new DeterministicRandom(o.Seed ^ ((ulong)step << 16) ^ (ulong)epoch ^ 0xE90C4UL);
            for (int i = order.Length - 1; i > 0; i--) { int j = random.NextInt(i + 1); (order[i], order[j]) = (order[j], order[i]); }
            for (int start = 0; start < order.Length; start += perUpdate)
            {
                var update = order.Skip(start).Take(perUpdate).Select(i => sequences[i]).ToList();
                // The loss is a mean over the update's tokens: each token's term is weighed by 1/N.
                double scale = 1.0 / update.Sum(s => s.Actions);
                run.ZeroGradients();
                for (int micro = 0; micro < update.Count; micro += o.BatchSize)
                    terms += run.Objective.Accumulate(update.Skip(micro).Take(o.BatchSize).ToList(), scale);
                norm = DataParallel.Single.Update(run.Trainable, run.Optimizer, o.GradientClip, learningRate, run.Pool);
                run.ParametersChanged();
            }
        }
        return (terms, norm);
    }

    private static string Format(double value) => value.ToString("F3", CultureInfo.InvariantCulture);
}
