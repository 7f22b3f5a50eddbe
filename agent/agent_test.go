package agent_test

import (
	"testing"

	"portpanel/agent/agenttest"
)

func newFake(t *testing.T) agenttest.ControlPlane { return newFakeCP(t) }

// The agent's behaviours against the fake control plane; the root
// package runs them against the real handlers (fleet_agent_test.go).
func TestAgent(t *testing.T) { agenttest.Run(t, newFake) }

func TestAgentKill9(t *testing.T) { agenttest.Kill9(t, newFake, agenttest.FaultBinary(t)) }
