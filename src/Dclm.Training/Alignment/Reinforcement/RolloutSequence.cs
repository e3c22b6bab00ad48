namespace Dclm.Training.Alignment.Reinforcement;

/// <summary>
/// One sampled completion and what the update needs of it, per action (each completion token, the end-of-sequence
/// token included when it ended the completion): the sampling policy's and the reference's log-probabilities, the value
/// head's estimates (PPO), the advantages and the value targets.
/// </summary>
public sealed class RolloutSequence
{
    /// <summary>A sequence of <paramref name="tokens"/> whose first <paramref name="promptLength"/> are the prompt.</summary>
    public RolloutSequence(int[] tokens, int promptLength)
    {
        if (promptLength < 1 || promptLength >= tokens.Length) throw new ArgumentException($"a rollout needs a prompt and at least one action ({promptLength} of {tokens.Length} tokens)");
        Tokens = tokens;
        PromptLength = promptLength;
        int n = Actions;
        OldLogProbabilities = new double[n];
        ReferenceLogProbabilities = new double[n];
        OldValues = new double[n];
        Advantages = new double[n];
        Returns = new double[n];
    }

    /// <summary>Prompt then completion tokens.</summary>
    public int[] Tokens { get; }
    /// <summary>Tokens of the prompt.</summary>
    public int PromptLength { get; }
    /// <summary>Completion tokens: the actions the policy took.</summary>
    public int Actions => Tokens.Length - PromptLength;
    /// <summary>Which prompt of the run it answers.</summary>
    public int Prompt { get; init; }
    /// <summary>The completion's text as the reward saw it.</summary>
    public string Completion { get; init; } = "";
    /// <summary>The score of the completion (reward command or reward model).</summary>
    public double Score { get; set; }

    /// <summary>log π_old(a_j | s_j) of each action under the policy that sampled it. (actions)</summary>
    public double[] OldLogProbabilities { get; }
    /// <summary>log π_ref(a_j | s_j) under the base without adapters. (actions)</summary>
    public double[] ReferenceLogProbabilities { get; }
    /// <summary>V(s_j) when the rollout was measured (PPO). (actions)</summary>
    public double[] OldValues { get; }
    /// <summary>A_j. (actions)</summary>
    public double[] Advantages { get; }
    /// <summary>Value targets R_j (PPO). (actions)</summary>
    public double[] Returns { get; }

    /// <summary>Σ_j (ℓ_old − ℓ_ref): the sampled estimate of KL(π_old ‖ π_ref) over the completion.</summary>
    public double KullbackLeibler
    {
        get
        {
            double sum = 0;
            for (int j = 0; j < Actions; j++) sum += OldLogProbabilities[j] - ReferenceLogProbabilities[j];
            return sum;
        }
    }
}
