/*
 * The pod sandbox's "pause" process for the local target's real node
 * (scripts/local-stack): the kubelet's containerd runs it as PID 1 of every
 * pod, holding the pod's namespaces. No pause image can be pulled here, so
 * this one is built locally (gcc -static) and imported into containerd.
 * It sleeps until SIGINT or SIGTERM and reaps any orphaned children
 * (PID 1 of a shared PID namespace).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void stop(int sig) {
	(void)sig;
	_exit(0);
}

static void reap(int sig) {
	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0) {
	}
}

int main(int argc, char **argv) {
	if (argc > 1 && argv[1][0] == '-' && argv[1][1] == 'v') {
		puts("archetype-local pause");
		return 0;
	}
	struct sigaction sa = {0};
	sa.sa_handler = stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = reap;
	sa.sa_flags = SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
	for (;;)
		pause();
}
