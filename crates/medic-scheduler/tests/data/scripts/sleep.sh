#!/bin/sh
# Runs far past any test's timeout. exec, so that the process the runner kills is the one that sleeps.
echo "starting a long job"
exec sleep 30
